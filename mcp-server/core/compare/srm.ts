import type { Policy } from "../policy/schema.js";
import type { Srm } from "../report.js";
import { splitThreshold } from "../stats/budget.js";
import { SplitEvidence } from "../stats/split-evidence.js";
import { evidenceValue } from "./count-comparison.js";
import type { SliceTotals } from "./series.js";
import type { SliceRole } from "./timeline.js";

// The split check over the current step (after its warm-up, slices wholly inside the step).
// What it counts, per slice: distinct units when both cohorts report `units`, else requests: the
// trials of the first ratio metric, else the first throughput counter, else the sample count of
// the first histogram, else the n of the first mean metric. A mismatch is the running maximum of
// the step's evidence reaching 1 / alpha: once a step showed a broken split it stays suspect.

type Basis = Srm["basis"];

/** The series the split check falls back to, in order of preference. */
export function splitSeries(policy: Policy): { kind: "counter" | "histogram" | "moments"; name: string }[] {
  const out: { kind: "counter" | "histogram" | "moments"; name: string }[] = [];
  for (const m of policy.metrics) if (m.type === "ratio") out.push({ kind: "counter", name: m.trials });
  for (const m of policy.metrics) if (m.type === "throughput") out.push({ kind: "counter", name: m.series });
  for (const m of policy.metrics) if (m.type === "histogram") out.push({ kind: "histogram", name: m.series });
  for (const m of policy.metrics) if (m.type === "mean") out.push({ kind: "moments", name: m.series });
  return out;
}

function total(h: ArrayLike<number>): number {
  let n = 0;
  for (let i = 0; i < h.length; i++) n += h[i]!;
  return n;
}

export class SplitTracker {
  private ordinal = -1;
  private evidence = new SplitEvidence();
  private basis: Basis = "none";
  private readonly fallbacks: ReturnType<typeof splitSeries>;

  constructor(private readonly policy: Policy) {
    this.fallbacks = splitSeries(policy);
  }

  private counts(totals: SliceTotals): { basis: Basis; canary: number; control: number } | undefined {
    if (totals.canary.units !== undefined && totals.control.units !== undefined) {
      return { basis: "units", canary: totals.canary.units, control: totals.control.units };
    }
    for (const f of this.fallbacks) {
      if (f.kind === "counter") {
        const a = totals.canary.counters.get(f.name);
        const b = totals.control.counters.get(f.name);
        if (a !== undefined && b !== undefined) return { basis: "requests", canary: a, control: b };
      } else if (f.kind === "histogram") {
        const a = totals.canary.histograms.get(f.name);
        const b = totals.control.histograms.get(f.name);
        if (a && b) return { basis: "requests", canary: total(a), control: total(b) };
      } else {
        const a = totals.canary.moments.get(f.name);
        const b = totals.control.moments.get(f.name);
        if (a && b) return { basis: "requests", canary: a.n, control: b.n };
      }
    }
    return undefined;
  }

  observe(role: SliceRole, totals: SliceTotals): void {
    if (!role.splitChecked) return;
    const c = this.counts(totals);
    if (!c) return;
    if (this.ordinal !== role.span.ordinal) {
      this.ordinal = role.span.ordinal;
      this.evidence = new SplitEvidence();
    }
    this.basis = c.basis;
    this.evidence.add(c.canary, c.control, role.expectedShare);
  }

  block(ordinal: number, percent: number | undefined): Srm {
    const current = this.ordinal === ordinal;
    const e = current ? this.evidence : new SplitEvidence();
    const evidence = evidenceValue(e.logMax);
    const threshold = splitThreshold(this.policy);
    const n = e.canary + e.control;
    return {
      expected_share: percent === undefined ? null : percent / 100,
      observed_share: n > 0 ? e.canary / n : null,
      evidence,
      threshold,
      mismatch: evidence >= threshold,
      basis: current && e.slices > 0 ? this.basis : "none",
      canary: e.canary,
      control: e.control,
    };
  }
}
