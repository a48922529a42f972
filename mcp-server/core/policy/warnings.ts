import { formatPath, type PolicyError } from "./parse.js";
import type { MetricPolicy, Policy } from "./schema.js";

// Valid policies that probably do not say what their author meant. They are not errors (the judge
// runs them as written), so validation and start list them beside the result.

function percent(fraction: number): string {
  return `+${Number((fraction * 100).toPrecision(4)).toLocaleString("en-US")}%`;
}

function thresholdWarnings(m: MetricPolicy, i: number, which: "tolerance" | "margin"): PolicyError[] {
  const t = m[which];
  if (t?.relative === undefined || t.relative <= 1) return [];
  return [
    {
      path: formatPath(["metrics", i, which, "relative"]),
      message: `${m.name}: relative ${t.relative} is ${percent(t.relative)}: relative is a fraction of the control's value (0.1 is +10%); if you meant ${t.relative}%, write ${t.relative / 100}`,
    },
  ];
}

/** The relative tolerance actually tested when the control's threshold sits on a bound and the
 * bounds grow by `ratio`: the first bound at or above (1 + t) times it. */
export function snapped(t: number, ratio: number): number {
  return ratio ** Math.ceil(Math.log(1 + t) / Math.log(ratio) - 1e-9) - 1;
}

/** What a reviewer would question in a valid policy, with the path to look at. */
export function policyWarnings(policy: Policy): PolicyError[] {
  const out: PolicyError[] = [];
  policy.metrics.forEach((m, i) => {
    out.push(...thresholdWarnings(m, i, "tolerance"), ...thresholdWarnings(m, i, "margin"));
    if (m.type === "histogram") {
      const t = m.tolerance.relative;
      out.push({
        path: formatPath(["metrics", i, "tolerance"]),
        message: `${m.name}: percentiles are tested on the histogram's bucket bounds, so a tolerance that falls between two bounds is tested at the next bound up${
          t !== undefined
            ? ` (${percent(t)} is tested as ${percent(snapped(t, 2))} when the bounds double, as ${percent(snapped(t, 1.25))} when they are 25% apart)`
            : ""
        }; each report row states the figure tested as effective_tolerance: choose bounds finer than the tolerance`,
      });
    }
  });
  return out;
}
