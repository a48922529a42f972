import { pauseDeploymentTool } from "../../mcp/tools/pause-deployment.js";
import { resumeDeploymentTool } from "../../mcp/tools/resume-deployment.js";
import { pauseResumeInput } from "../../operations/pause-resume.js";
import { COMMON_HELP, type Command, flag, LEDGER_OPTIONS, str } from "../command.js";
import { operate } from "../operate.js";
import { printJson, UsageError } from "../output.js";

function pauseOrResume(pause: boolean): Command {
  const verb = pause ? "pause" : "resume";
  return {
    name: verb,
    usage: `canary ${verb} ID --reason TEXT [--at TIME]

${pause ? "Traffic stays at the current percent; decisions hold with `paused`; tick and watch still look, and roll back a proven regression when the policy has auto_rollback, but never promote." : "The step's window keeps counting from the step's start."}
Exit 0 when done or already ${pause ? "paused" : "running"}, 3 when the deployment has ended.

${COMMON_HELP}`,
    options: { ...LEDGER_OPTIONS, reason: { type: "string" }, at: { type: "string" } },
    positionals: { min: 1, max: 1 },
    async run(args) {
      const reason = str(args, "reason");
      if (!reason) throw new UsageError("--reason TEXT is required (it is kept in the audit log)");
      const input = pauseResumeInput.parse({
        deployment_id: args.positionals[0],
        reason,
        at: str(args, "at"),
      });
      const out = await operate(args, pause ? pauseDeploymentTool : resumeDeploymentTool, input);
      if (flag(args, "json")) printJson(out);
      else
        process.stdout.write(
          `${out.deployment_id} ${out.moved ? "is now" : "was already"} ${out.state} at ${out.percent}%\n`,
        );
      return 0;
    },
  };
}

export const pauseCommand = pauseOrResume(true);
export const resumeCommand = pauseOrResume(false);
