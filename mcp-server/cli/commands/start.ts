import { startDeploymentTool } from "../../mcp/tools/start-deployment.js";
import { startDeploymentInput } from "../../operations/start-deployment.js";
import { COMMON_HELP, type Command, flag, LEDGER_OPTIONS, str } from "../command.js";
import { isRemote, operate } from "../operate.js";
import { printJson, UsageError } from "../output.js";
import { policyForServer } from "../server-policy.js";

/** --var NAME=VALUE, repeatable. */
export function parseVars(raw: unknown): Record<string, string> | undefined {
  if (!Array.isArray(raw) || raw.length === 0) return undefined;
  const vars: Record<string, string> = {};
  for (const item of raw) {
    const text = String(item);
    const eq = text.indexOf("=");
    if (eq <= 0) throw new UsageError(`--var takes NAME=VALUE, got ${JSON.stringify(text)}`);
    vars[text.slice(0, eq)] = text.slice(eq + 1);
  }
  return vars;
}

export const startCommand: Command = {
  name: "start",
  usage: `canary start ID --policy FILE [--service S] [--version V] [--author A] [--var NAME=VALUE ...] [--at TIME]

Starts deployment ID at the first rung of the policy's ladder. --var fills {{vars.NAME}} in the
policy's source queries (repeat it for several). Exit 0 when started, or when ID was already
started with the same policy and version (a retried CI step: nothing changes, "moved": false);
2 for bad input (invalid policy, bad id); 3 when refused (ID exists with another policy or
version, service busy); 5 when the ledger stayed locked (safe to retry).

${COMMON_HELP}`,
  options: {
    ...LEDGER_OPTIONS,
    policy: { type: "string" },
    service: { type: "string" },
    version: { type: "string" },
    author: { type: "string" },
    var: { type: "string", multiple: true },
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
      vars: parseVars(args.values.var),
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
      for (const p of out.source_check?.problems ?? []) process.stderr.write(`warning: source check: ${p}\n`);
    }
    return 0;
  },
};
