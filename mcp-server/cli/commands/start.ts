import { withSourceCheck } from "../../operations/source-check.js";
import { startDeployment, startDeploymentInput } from "../../operations/start-deployment.js";
import { COMMON_HELP, type Command, flag, LEDGER_OPTIONS, str } from "../command.js";
import { openContext } from "../context.js";
import { printJson, UsageError } from "../output.js";

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
  summary: "start a canary deployment at the first rung of its policy's ladder",
  usage: `canary start ID --policy FILE [--service S] [--version V] [--author A] [--var NAME=VALUE ...] [--at TIME]

Starts deployment ID at the first rung of the policy's ladder. --var fills {{vars.NAME}} in the
policy's source queries (repeat it for several). Exit 0 when started,
2 for bad input (invalid policy, bad id), 3 when refused (id exists, service busy).

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
      policy,
      service: str(args, "service"),
      version: str(args, "version"),
      author: str(args, "author"),
      vars: parseVars(args.values.var),
      at: str(args, "at"),
    });
    const ctx = await openContext({ ledger: str(args, "ledger"), clock: str(args, "clock") });
    try {
      const out = await withSourceCheck(ctx, input, startDeployment(ctx, input));
      if (flag(args, "json")) printJson(out);
      else
        process.stdout.write(
          `started ${out.deployment_id} (${out.service}) at step ${out.step}: ${out.percent}% canary\naudit head ${out.audit_head}\n${(out.source_check?.problems ?? []).map((p) => `warning: source check: ${p}\n`).join("")}`,
        );
      return 0;
    } finally {
      ctx.ledger.close();
    }
  },
};
