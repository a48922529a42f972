import type { DeploymentStatus, DeploymentStatusInput } from "../../operations/deployment-status.js";
import { deploymentStatus } from "../../operations/read-status.js";
import { COMMON_HELP, type Command, flag, LEDGER_OPTIONS } from "../command.js";
import { type CommandOperation, operate } from "../operate.js";
import { EXIT, paint, printJson, table } from "../output.js";

/**
 * The deployment_status tool as the CLI runs it: same name (remote mode), operation and hints,
 * without the tool's zod schemas, which would be most of this command's start-up (the operation
 * validates nothing it is given: an id matches a deployment or is not found).
 */
export const statusOperation: CommandOperation<DeploymentStatusInput, DeploymentStatus> = {
  name: "deployment_status",
  run: deploymentStatus,
  annotations: { readOnlyHint: true },
};

const stateExit = {
  completed: EXIT.ok,
  rolled_back: EXIT.rollback,
  canary: EXIT.hold,
  paused: EXIT.hold,
} as const;

export const statusCommand: Command = {
  name: "status",
  usage: `canary status [ID] [--all]

With ID: state, step, percent, window and latest decision. Exit 0 completed, 10 still running
(canary or paused), 20 rolled back. Without ID: active deployments (--all: recent ones too), exit 0.

${COMMON_HELP}`,
  options: { ...LEDGER_OPTIONS, all: { type: "boolean" } },
  positionals: { min: 0, max: 1 },
  async run(args) {
    const id = args.positionals[0];
    if (!id) {
      const { listDeploymentsTool } = await import("../../mcp/tools/list-deployments.js");
      const out = await operate(
        args,
        listDeploymentsTool,
        { active_only: !flag(args, "all"), limit: 50 },
        { cohorts: false },
      );
      if (flag(args, "json")) printJson(out);
      else if (out.deployments.length === 0)
        process.stdout.write(`no ${flag(args, "all") ? "" : "active "}deployments\n`);
      else {
        process.stdout.write(
          `${table(
            ["deployment", "service", "state", "step", "percent", "last event"],
            out.deployments.map((d) => [
              d.deployment_id,
              d.service,
              d.state,
              d.step,
              `${d.percent}%`,
              d.last_event_at,
            ]),
          )}\n`,
        );
      }
      return EXIT.ok;
    }
    const s = await operate(args, statusOperation, { deployment_id: id }, { cohorts: false });
    if (flag(args, "json")) printJson(s);
    else {
      const color = s.state === "rolled_back" ? "red" : s.state === "completed" ? "green" : "yellow";
      const lines = [
        `${paint("bold", s.deployment_id)}  ${s.service}${s.version ? ` ${s.version}` : ""}  ${paint(color, s.state)}`,
        `step ${s.step + 1} of ${s.ladder.length}: ${s.percent}% canary   ladder ${s.ladder.map((r) => `${r.percent}%`).join(" > ")}`,
        `step started ${s.step_started_at}${s.window_ends_at ? `, window ends ${s.window_ends_at}` : ""}`,
      ];
      if (s.latest_decision) {
        const d = s.latest_decision;
        lines.push(
          `latest decision #${d.decision_id}: ${d.verdict} (step ${d.step + 1}, ${d.decided_at}${d.fresh || s.state === "completed" || s.state === "rolled_back" ? "" : ", stale"})`,
        );
        for (const r of d.reasons) lines.push(`  - ${r}`);
      } else lines.push("no decision yet");
      lines.push(`audit head ${s.audit_head}`);
      process.stdout.write(`${lines.join("\n")}\n`);
    }
    return stateExit[s.state];
  },
};
