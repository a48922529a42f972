import { startDeploymentTool } from "../../mcp/tools/start-deployment.js";
import { startDeploymentInput } from "../../operations/start-deployment.js";
import { COMMON_HELP, type Command, flag, LEDGER_OPTIONS, str } from "../command.js";
import { isRemote, operate } from "../operate.js";
import { printJson, UsageError } from "../output.js";
import { policyForServer } from "../remote.js";

export const startCommand: Command = {
  name: "start",
  usage: `canary start ID --policy FILE [--service S] [--version V] [--author A] [--at TIME]

Starts deployment ID at the first rung of the policy's ladder. Exit 0 when started, or when
ID was already started with the same policy and version (a retried CI step: nothing changes,
"moved": false); 2 for bad input (invalid policy, bad id); 3 when refused (ID exists with another
policy or version, service busy); 5 when the ledger stayed locked (safe to retry).

${COMMON_HELP}`,
  options: {
    ...LEDGER_OPTIONS,
    policy: { type: "string" },
    service: { type: "string" },
    version: { type: "string" },
    author: { type: "string" },
    at: { type: "string" },
  },
  positionals: { min: 1, max: 1 },
  async run(args) {
    const policy = str(args, "policy");
    if (!policy) throw new UsageError("--policy FILE is required");
    const input = startDeploymentInput.parse({
      deployment_id: args.positionals[0],
      // A shared server reads no files of ours: send the policy itself.
      policy: isRemote(args) ? policyForServer(policy) : policy,
      service: str(args, "service"),
      version: str(args, "version"),
      author: str(args, "author"),
      at: str(args, "at"),
    });
    const out = await operate(args, startDeploymentTool, input);
    if (flag(args, "json")) printJson(out);
    else if (!out.moved)
      process.stdout.write(
        `${out.deployment_id} was already started with this policy and version (${out.state} at ${out.percent}%): nothing changed\naudit head ${out.audit_head}\n`,
      );
    else {
      process.stdout.write(
        `started ${out.deployment_id} (${out.service}) at step ${out.step}: ${out.percent}% canary\naudit head ${out.audit_head}\n`,
      );
      for (const w of out.warnings) process.stderr.write(`warning: ${w.path}: ${w.message}\n`);
    }
    return 0;
  },
};
