import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { quote } from "../../core/clip.js";
import { preflight, preflightInput } from "../../operations/preflight.js";
import { type Command, flag, str } from "../command.js";
import { EXIT, paint, printJson, table, UsageError } from "../output.js";

export const preflightCommand: Command = {
  name: "preflight",
  usage: `canary preflight --policy FILE --rpm N [--baseline METRIC=RATE ...] [--json]

Feeds the judge the data a healthy canary would produce at N requests per minute (canary +
control) and reports, per rung and guardrail, whether the margin would be proven within the
window, and otherwise a percent or window that would. --baseline sets a ratio metric's expected
rate as the policy defines it, events / trials: error_rate=0.002, cache_hit_rate=0.9 (default
1% bad outcomes: 0.01 for bad: increase, 0.99 for bad: decrease). Exit 0 when every rung can prove its guardrails in time, 10 when
some would hold for lack of data.`,
  options: {
    policy: { type: "string" },
    rpm: { type: "string" },
    baseline: { type: "string", multiple: true },
    json: { type: "boolean" },
  },
  async run(args) {
    const policy = str(args, "policy");
    const rpm = Number(str(args, "rpm"));
    if (!policy || !(rpm > 0))
      throw new UsageError("--policy FILE and --rpm N (requests per minute) are required");
    const baselines: Record<string, number> = {};
    for (const b of ((args.values.baseline as (string | boolean)[] | undefined) ?? []).map(String)) {
      const [name, rate] = b.split("=");
      if (!name || rate === undefined || Number.isNaN(Number(rate)))
        throw new UsageError(`--baseline takes METRIC=RATE, got ${quote(b)}`);
      baselines[name] = Number(rate);
    }
    const input = preflightInput.parse({
      policy,
      traffic: { requests_per_minute: rpm, ...(Object.keys(baselines).length ? { baselines } : {}) },
    });
    const out = preflight({ readPolicyFile: (p) => readFileSync(resolve(p), "utf8") }, input);
    if (flag(args, "json")) printJson(out);
    else {
      const rows = out.rungs.flatMap((r) =>
        r.checks.map((c) => [
          `${r.percent}%`,
          r.window,
          `${c.metric} ${c.statistic}`,
          c.provable_in_window ? paint("green", "yes") : paint("red", "no"),
          c.note,
        ]),
      );
      process.stdout.write(`${table(["rung", "window", "guardrail", "in time", "why"], rows)}\n`);
      for (const r of out.rungs)
        if (r.suggestion) process.stdout.write(`${r.percent}% rung: ${r.suggestion}\n`);
      if (out.not_checked.length)
        process.stdout.write(`not checked (need real data): ${out.not_checked.join(", ")}\n`);
      process.stdout.write(`assuming: ${out.assumptions.join("; ")}\n`);
    }
    return out.ok ? EXIT.ok : EXIT.hold;
  },
};
