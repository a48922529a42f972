import { describe, expect, it } from "vitest";
import { type Policy, policySchema } from "../../../mcp-server/core/policy/schema.js";
import { preflightPolicy } from "../../../mcp-server/core/preflight/preflight.js";

function policy(overrides: Record<string, unknown> = {}): Policy {
  return policySchema.parse({
    service: "svc",
    ladder: [{ percent: 1, window: "30m" }, { percent: 25, window: "30m" }, { percent: 100 }],
    metrics: [
      {
        name: "errors",
        type: "ratio",
        events: "e",
        trials: "t",
        bad: "increase",
        tolerance: { relative: 0 },
        margin: { relative: 1 },
      },
      {
        name: "latency",
        type: "histogram",
        series: "h",
        percentiles: [50, 99.9],
        bad: "increase",
        tolerance: { absolute: 50 },
      },
      { name: "size", type: "mean", series: "m", bad: "increase", tolerance: { relative: 0.1 } },
    ],
    ...overrides,
  });
}

describe("preflight: can each rung prove its guardrails in time?", () => {
  it("says yes at high traffic, with the proof inside the window", () => {
    const r = preflightPolicy(policy({ metrics: [policy().metrics[0]] }), {
      requests_per_minute: 200_000,
      baselines: { errors: 0.01 },
    });
    expect(r.ok).toBe(true);
    for (const rung of r.rungs) {
      const check = rung.checks.find((c) => c.metric === "errors")!;
      expect(check.provable_in_window).toBe(true);
      expect(check.proven_after).not.toBeNull();
      expect(rung.suggestion).toBeNull();
    }
  });

  it("says no at low traffic, and names a percent or window that would work", () => {
    const r = preflightPolicy(policy(), { requests_per_minute: 2_000, baselines: { errors: 0.005 } });
    expect(r.ok).toBe(false);
    const first = r.rungs[0]!;
    expect(first.checks.find((c) => c.metric === "errors")?.provable_in_window).toBe(false);
    expect(first.suggestion).toMatch(/use \d+% for this rung|window of at least/);
    // p99.9 at 1% of 2 000 rpm: 600 canary samples in 30 min, 0.6 above p99.9: insufficient.
    expect(first.checks.find((c) => c.statistic === "p99.9")).toMatchObject({ provable_in_window: false });
    expect(r.not_checked).toEqual(["size"]);
  });

  it("proves sooner with more traffic and at a larger percent (monotone), never the other way", () => {
    const times = [5_000, 20_000, 80_000].map((rpm) => {
      const r = preflightPolicy(policy({ metrics: [policy().metrics[0]] }), {
        requests_per_minute: rpm,
        baselines: { errors: 0.01 },
      });
      return r.rungs.map((rung) => rung.checks[0]?.proven_after);
    });
    const ms = (d: string | null | undefined) =>
      d
        ? Number(/(\d+)m/.exec(d)?.[1] ?? 0) + Number(/(\d+)h/.exec(d)?.[1] ?? 0) * 60
        : Number.POSITIVE_INFINITY;
    for (let i = 1; i < times.length; i++) {
      for (let rung = 0; rung < 2; rung++)
        expect(ms(times[i]![rung])).toBeLessThanOrEqual(ms(times[i - 1]![rung]));
    }
    for (const t of times) expect(ms(t[1])).toBeLessThanOrEqual(ms(t[0]));
  });

  it("states its assumptions, including defaulted baselines", () => {
    const r = preflightPolicy(policy(), { requests_per_minute: 1000 });
    expect(r.assumptions.join(" ")).toMatch(/errors: baseline rate \(events \/ trials\) 1%/);
  });
});
