import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { canonicalJson } from "../../../mcp-server/core/canonical-json.js";
import { compareMetrics, createJudge, inputsSha256 } from "../../../mcp-server/core/compare/index.js";
import { canonicalSlice, canonicalSliceJson, mergeSlices } from "../../../mcp-server/core/compare/inputs.js";
import type { JudgeContext, StoredSlice } from "../../../mcp-server/core/deployment.js";
import { policySha256 } from "../../../mcp-server/core/policy/parse.js";
import { type Policy, policySchema } from "../../../mcp-server/core/policy/schema.js";
import { type Report, reportSchema } from "../../../mcp-server/core/report.js";
import { MINUTE, simulateDeployment, T0 } from "../../support/canary-sim.js";

const policy: Policy = policySchema.parse({
  service: "checkout",
  ladder: [
    { percent: 1, window: "20m" },
    { percent: 5, window: "20m" },
    { percent: 25, window: "20m" },
    { percent: 100 },
  ],
  warmup: "2m",
  metrics: [
    {
      name: "errors",
      type: "ratio",
      events: "http_errors",
      trials: "http_requests",
      bad: "increase",
      tolerance: { relative: 0 },
      margin: { relative: 0.5 },
    },
    {
      name: "latency",
      type: "histogram",
      series: "http_latency_ms",
      percentiles: [50, 99],
      bad: "increase",
      tolerance: { absolute: 20 },
    },
  ],
});

const sim = simulateDeployment({
  seed: 11,
  ladder: [
    { percent: 1, minutes: 20 },
    { percent: 5, minutes: 20 },
    { percent: 25, minutes: 20 },
  ],
  rps: 200,
  errorRate: (minute) => ({ canary: minute > 25 ? 0.009 : 0.005, control: 0.005 }),
  latency: { shape: () => ({ canary: { median: 50, sigma: 0.7 }, control: { median: 50, sigma: 0.7 } }) },
  unitsPerRequest: 0.4,
});

function context(at: number): JudgeContext {
  return { deploymentId: "checkout-1", policy, steps: sim.steps, state: "canary", at };
}

describe("reports are deterministic", () => {
  it("give byte-identical canonical JSON for identical inputs, and pass the report schema", () => {
    const a = compareMetrics(context(sim.end), sim.slices);
    const b = compareMetrics(context(sim.end), structuredClone(sim.slices));
    expect(canonicalJson(a)).toBe(canonicalJson(b));
    expect(reportSchema.parse(a)).toEqual(a);
    expect(a.policy_sha256).toBe(policySha256(policy));
  });

  it("do not depend on the order the slices arrive in", () => {
    const reference = canonicalJson(compareMetrics(context(T0 + 45 * MINUTE), sim.slices));
    fc.assert(
      fc.property(
        fc.shuffledSubarray(sim.slices, { minLength: sim.slices.length, maxLength: sim.slices.length }),
        (shuffled) => {
          expect(canonicalJson(compareMetrics(context(T0 + 45 * MINUTE), shuffled))).toBe(reference);
        },
      ),
      { seed: 20260526, numRuns: 15 },
    );
  });

  it("add up slices that share (t, cohort, dims), whatever their order", () => {
    const first = sim.slices[0]!;
    const half = (s: StoredSlice, part: 0 | 1): StoredSlice => ({
      ...s,
      counters: Object.fromEntries(
        Object.entries(s.counters).map(([k, v]) => [
          k,
          part === 0 ? Math.floor(v / 2) : v - Math.floor(v / 2),
        ]),
      ),
      histograms: {},
    });
    const split = [half(first, 0), { ...half(first, 1), histograms: first.histograms }];
    expect(mergeSlices(split)).toEqual(mergeSlices([...split].reverse()));
    expect(mergeSlices(split)[0]!.counters).toEqual(first.counters);
  });

  it("compareMetrics is exactly a fold over the incremental judge", () => {
    const judge = createJudge({ deploymentId: "checkout-1", policy, steps: sim.steps, state: "canary" });
    for (const s of sim.slices) judge.addSlice(s);
    const looks: Report[] = [];
    for (let m = 5; m <= 60; m += 5) looks.push(judge.report(T0 + m * MINUTE));
    expect(canonicalJson(looks[looks.length - 1])).toBe(
      canonicalJson(compareMetrics(context(T0 + 60 * MINUTE), sim.slices)),
    );
    expect(canonicalJson(looks[4])).toBe(
      canonicalJson(compareMetrics(context(T0 + 25 * MINUTE), sim.slices)),
    );
  });

  it("with a source's lag, a judge fed as the slices complete reports what one built from them all reports", () => {
    // A pulled slice is complete 2 minutes after its end: at each minute's look only the slices
    // before now - 3 min are in, and looks at check times past that wait for their data.
    const lag = 3 * MINUTE - 1;
    const judge = createJudge({ deploymentId: "checkout-1", policy, steps: sim.steps, state: "canary" });
    let fedBefore = Number.NEGATIVE_INFINITY;
    for (let m = 4; m <= 60; m++) {
      const at = T0 + m * MINUTE;
      const dataUntil = at - lag;
      for (const s of sim.slices) if (s.t >= fedBefore && s.t < dataUntil) judge.addSlice(s);
      fedBefore = dataUntil;
      const kept = judge.report(at, { dataUntil });
      const fresh = compareMetrics(context(at), sim.slices, { dataUntil });
      expect(canonicalJson(kept)).toBe(canonicalJson(fresh));
    }
  });

  it("follows steps added while it runs (the simulator's ladder moves with its verdicts)", () => {
    const ctx: Omit<JudgeContext, "at"> = {
      deploymentId: "checkout-1",
      policy,
      steps: [sim.steps[0]!],
      state: "canary",
    };
    const judge = createJudge(ctx);
    let reported: Report | undefined;
    for (let m = 1; m <= 60; m++) {
      for (const s of sim.slices) if (s.t === T0 + (m - 1) * MINUTE) judge.addSlice(s);
      const next = sim.steps.find((st) => st.startedAt === T0 + m * MINUTE);
      reported = judge.report(T0 + m * MINUTE, { intervals: false });
      if (next) ctx.steps = [...ctx.steps, next];
    }
    const full = compareMetrics(context(T0 + 60 * MINUTE), sim.slices, { intervals: false });
    expect(canonicalJson(reported)).toBe(canonicalJson(full));
  });

  it("never let the intervals change a status or an evidence", () => {
    const strip = (r: Report) => r.rows.map(({ ci_low, ci_high, canary, control, note, ...rest }) => rest);
    for (const m of [10, 30, 60]) {
      const withIntervals = compareMetrics(context(T0 + m * MINUTE), sim.slices);
      const without = compareMetrics(context(T0 + m * MINUTE), sim.slices, { intervals: false });
      expect(strip(without)).toEqual(strip(withIntervals));
    }
  });
});

describe("inputs hash", () => {
  it("is the SHA-256 of the canonical slices used and the view, and can be recomputed", () => {
    const at = T0 + 30 * MINUTE;
    const report = compareMetrics(context(at), sim.slices);
    const used = mergeSlices(sim.slices.filter((s) => s.t < at));
    expect(report.inputs_sha256).toBe(inputsSha256(context(at), used, at));
    expect(report.inputs_sha256).toMatch(/^[0-9a-f]{64}$/);
    const other = compareMetrics(
      context(at),
      sim.slices.map((s, i) =>
        i === 3 ? { ...s, counters: { ...s.counters, http_errors: (s.counters.http_errors ?? 0) + 1 } } : s,
      ),
    );
    expect(other.inputs_sha256).not.toBe(report.inputs_sha256);
  });

  it("ignores slices at or after `at`", () => {
    const at = T0 + 30 * MINUTE;
    const later = compareMetrics(context(at), sim.slices);
    const cut = compareMetrics(
      context(at),
      sim.slices.filter((s) => s.t < at),
    );
    expect(canonicalJson(later)).toBe(canonicalJson(cut));
  });

  it("serializes slices exactly as the generic canonical JSON would", () => {
    const slice = fc.record({
      t: fc.integer({ min: T0, max: T0 + 1e9 }),
      cohort: fc.constantFrom("canary" as const, "control" as const, "excluded" as const),
      dimsKey: fc.constant(""),
      counters: fc.dictionary(fc.string({ minLength: 1, maxLength: 6 }), fc.nat()),
      histograms: fc.dictionary(
        fc.string({ minLength: 1, maxLength: 6 }),
        fc.record({
          bounds: fc.array(fc.double({ noNaN: true, noDefaultInfinity: true }), { maxLength: 5 }),
          counts: fc.array(fc.nat(), { maxLength: 6 }),
        }),
      ),
      moments: fc.dictionary(
        fc.string({ minLength: 1, maxLength: 6 }),
        fc.record({
          n: fc.nat(),
          sum: fc.double({ noNaN: true, noDefaultInfinity: true }),
          sum_sq: fc.double({ min: 0, noNaN: true, noDefaultInfinity: true }),
        }),
      ),
      units: fc.option(fc.nat(), { nil: undefined }),
      dims: fc.option(fc.dictionary(fc.string({ minLength: 1, maxLength: 4 }), fc.string({ maxLength: 4 })), {
        nil: undefined,
      }),
    });
    fc.assert(
      fc.property(slice, (s) => {
        const stored = s as StoredSlice;
        expect(canonicalSliceJson(stored)).toBe(canonicalJson(canonicalSlice(stored)));
      }),
      { seed: 8785, numRuns: 300 },
    );
  });
});

describe("the incremental judge refuses to rewrite history", () => {
  it("refuses slices behind the last report and steps that would move processed slices", () => {
    const judge = createJudge({
      deploymentId: "checkout-1",
      policy,
      steps: [sim.steps[0]!],
      state: "canary",
    });
    for (const s of sim.slices.filter((x) => x.t < T0 + 10 * MINUTE)) judge.addSlice(s);
    judge.report(T0 + 10 * MINUTE);
    expect(() => judge.addSlice(sim.slices[0]!)).toThrow(/moved past/);
    expect(() => judge.addStep({ step: 1, percent: 5, startedAt: T0 + 5 * MINUTE })).toThrow(
      /already processed/,
    );
  });
});
