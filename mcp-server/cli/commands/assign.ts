import { quote } from "../../core/clip.js";
import { assignCohortTool } from "../../mcp/tools/assign-cohort.js";
import { assignCohortInput } from "../../operations/assign-cohort.js";
import { COMMON_HELP, type Command, flag, LEDGER_OPTIONS } from "../command.js";
import { operate } from "../operate.js";
import { printJson, UsageError } from "../output.js";

export const assignCommand: Command = {
  name: "assign",
  usage: `canary assign ID UNIT [--attr key=value ...]

Prints the unit's cohort (canary, control or excluded), bucket and the current percent.

${COMMON_HELP}`,
  options: { ...LEDGER_OPTIONS, attr: { type: "string", multiple: true } },
  positionals: { min: 2, max: 2 },
  async run(args) {
    const attrs = ((args.values.attr as (string | boolean)[] | undefined) ?? []).map(String);
    const attributes: Record<string, string> = {};
    for (const a of attrs) {
      const eq = a.indexOf("=");
      if (eq < 1) throw new UsageError(`--attr takes key=value, got ${quote(a)}`);
      attributes[a.slice(0, eq)] = a.slice(eq + 1);
    }
    const input = assignCohortInput.parse({
      deployment_id: args.positionals[0],
      unit_id: args.positionals[1],
      attributes: attrs.length ? attributes : undefined,
    });
    const out = await operate(args, assignCohortTool, input);
    if (flag(args, "json")) printJson(out);
    else process.stdout.write(`${out.cohort} (bucket ${out.bucket}, ${out.percent}% canary)\n`);
    return 0;
  },
};
