import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { validatePolicy } from "../../operations/validate-policy.js";
import { type Command, flag } from "../command.js";
import { EXIT, paint, printJson } from "../output.js";

export const policyValidateCommand: Command = {
  name: "policy validate",
  usage: `canary policy validate FILE [--json]

Exit 0 when valid, 2 when not (every error is listed with its path and line). A valid policy
may still get warnings (a relative tolerance above 1 is above +100%; histogram tolerances are
tested on bucket bounds). docs/policy.md describes every field.`,
  options: { json: { type: "boolean" } },
  positionals: { min: 1, max: 1 },
  async run(args) {
    const file = args.positionals[0]!;
    const out = validatePolicy({ readPolicyFile: (p) => readFileSync(resolve(p), "utf8") }, { policy: file });
    if (flag(args, "json")) printJson(out);
    else if (out.valid) {
      process.stdout.write(`${paint("green", "valid")} ${file} (sha256 ${out.policy_sha256})\n`);
      for (const w of out.warnings)
        process.stdout.write(`  ${paint("yellow", "warning")} ${w.path}: ${w.message}\n`);
    } else {
      process.stdout.write(`${paint("red", "invalid")} ${file}\n`);
      for (const e of out.errors)
        process.stdout.write(`  ${e.line ? `line ${e.line}: ` : ""}${e.path}: ${e.message}\n`);
    }
    return out.valid ? EXIT.ok : EXIT.badInput;
  },
};
