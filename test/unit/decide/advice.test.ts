import { describe, expect, it } from "vitest";
import { decideVerdict, roundUpToLadderPercent } from "../../../mcp-server/core/decide/index.js";
import { makeContext, makePolicy, makeReport, makeRow } from "./fixtures.js";

// 30 minutes observed at 1 000 requests a minute across both cohorts, a 60-minute window.
function holdWith(samplesNeeded: number | null, canaryCount = 300) {
  const row = makeRow({
    status: "inconclusive",
    margin_proven: false,
    canary: { value: 0.005, count: canaryCount, events: 2 },
    control: { value: 0.005, count: 30_000 - canaryCount, events: 150 },
    samples_needed: samplesNeeded,
  });
  return decideVerdict({
    ctx: makeContext(makePolicy(), { minutes: 30 }),
    report: makeReport({ minutes: 30, rows: [row] }),
  });
}

describe("hold advice", () => {
  it("rounds a needed share up to a ladder-friendly percent", () => {
    expect(roundUpToLadderPercent(0.3)).toBe(1);
    expect(roundUpToLadderPercent(1)).toBe(1);
    expect(roundUpToLadderPercent(1.2)).toBe(2);
    expect(roundUpToLadderPercent(5)).toBe(5);
    expect(roundUpToLadderPercent(26)).toBe(50);
    expect(roundUpToLadderPercent(50.5)).toBeNull();
  });

  it("suggests the percent that gathers the missing samples within one window", () => {
    // The step needs 300 + 2 700 = 3 000 canary requests in 60 minutes of 1 000/min: 5%.
    const r = holdWith(2_700);
    expect(r.verdict).toBe("hold");
    expect(r.advice?.samples_missing).toBe(2_700);
    expect(r.advice?.suggested_percent).toBe(5);
    expect(r.advice?.suggested_window_ms).toBe(60 * 60_000);
    expect(r.advice?.time_left_ms).toBe(30 * 60_000);
    expect(r.advice?.message).toContain("a canary at 5% gathers them within one window");
    expect(r.advice?.message).toContain("1,000/min");
  });

  it("names 50% with a longer window when no percent up to 50% suffices within one", () => {
    // 300 + 1 000 000 canary requests at 50% of 1 000/min: 2 001 minutes.
    const r = holdWith(1_000_000);
    expect(r.advice?.suggested_percent).toBe(50);
    expect(r.advice?.suggested_window_ms).toBe(2_001 * 60_000);
    expect(r.advice?.message).toContain("no canary percent up to 50%");
  });

  it("takes the slowest guardrail", () => {
    const policy = makePolicy({
      metrics: [
        ...makePolicy().metrics,
        {
          name: "latency",
          type: "histogram",
          series: "http_latency_ms",
          percentiles: [99.9],
          bad: "increase",
          tolerance: { absolute: 50 },
        },
      ],
    });
    const rows = [
      makeRow({
        status: "inconclusive",
        margin_proven: false,
        canary: { value: 0.005, count: 300 },
        control: { value: 0.005, count: 29_700 },
        samples_needed: 2_700,
      }),
      makeRow({
        metric: "latency",
        statistic: "p99.9",
        interval_scale: "absolute",
        status: "insufficient_data",
        margin_proven: false,
        canary: { value: 400, count: 300 },
        control: { value: 380, count: 29_700 },
        samples_needed: 24_700,
      }),
    ];
    const r = decideVerdict({
      ctx: makeContext(policy, { minutes: 30 }),
      report: makeReport({ minutes: 30, rows }),
    });
    expect(r.advice?.samples_missing).toBe(24_700);
    // 25 000 over 60 000 requests a window: 41.7%, rounded up to 50%.
    expect(r.advice?.suggested_percent).toBe(50);
    expect(r.advice?.message).toContain("latency p99.9");
  });

  it("extrapolates from the margin evidence when the engine gives no estimate", () => {
    const row = makeRow({
      status: "improvement",
      margin_proven: false,
      margin_evidence: Math.sqrt(20),
      canary: { value: 0.005, count: 300, events: 2 },
      control: { value: 0.005, count: 29_700, events: 150 },
      samples_needed: null,
    });
    const r = decideVerdict({
      ctx: makeContext(makePolicy(), { minutes: 30 }),
      report: makeReport({ minutes: 30, rows: [row] }),
    });
    // Half-way to 20x on the log scale after 300 requests: about 300 more.
    expect(r.advice?.samples_missing).toBe(300);
    expect(r.advice?.suggested_percent).toBe(1);
    expect(r.advice?.message).toContain("extrapolated");
    expect(r.reasons[0]?.message).toContain("about 300 more canary requests on this step, extrapolated");
  });

  it("gives no percent when no row says what it lacks", () => {
    const r = holdWith(null);
    expect(r.advice?.samples_missing).toBeNull();
    expect(r.advice?.suggested_percent).toBeNull();
    expect(r.advice?.suggested_window_ms).toBeNull();
  });
});

describe("hold advice, word for word", () => {
  const row = (o: Partial<Parameters<typeof makeRow>[0]> = {}) =>
    makeRow({
      status: "inconclusive",
      margin_proven: false,
      canary: { value: 0.005, count: 300, events: 2 },
      control: { value: 0.005, count: 29_700, events: 150 },
      samples_needed: 2_700,
      ...o,
    });
  const advise = (minutes: number, rows: ReturnType<typeof makeRow>[], policy = makePolicy()) =>
    decideVerdict({ ctx: makeContext(policy, { minutes }), report: makeReport({ minutes, rows }) }).advice;

  it("while the window is open: time left, the need, the percent, and the time at the current percent", () => {
    expect(advise(30, [row()])).toEqual({
      time_left_ms: 30 * 60_000,
      samples_missing: 2_700,
      suggested_percent: 5,
      suggested_window_ms: 60 * 60_000,
      message:
        "the window closes in 30m; checkout_error_rate needs about 2,700 more canary samples; at 1,000/min observed across both cohorts, a canary at 5% gathers them within one window (needs 5%); at the current 1%, about 4h30m more.",
    });
  });

  it("past 50%: the longer window at 50%", () => {
    expect(advise(30, [row({ samples_needed: 1_000_000 })])?.message).toBe(
      "the window closes in 30m; checkout_error_rate needs about 1,000,000 more canary samples; at 1,000/min observed across both cohorts, no canary percent up to 50% gathers them within a 1h window; a window of about 33h21m at 50% would; at the current 1%, about 1666h40m more.",
    );
  });

  it("without counts there is no traffic estimate to suggest a percent from", () => {
    const empty = row({
      canary: { value: 0, count: 0, events: 0 },
      control: { value: 0, count: 0, events: 0 },
    });
    expect(advise(30, [empty])).toEqual({
      time_left_ms: 30 * 60_000,
      samples_missing: 2_700,
      suggested_percent: null,
      suggested_window_ms: null,
      message:
        "the window closes in 30m; checkout_error_rate needs about 2,700 more canary samples; no traffic estimate yet to suggest a percent.",
    });
  });

  it("with no need reported, says so, with or without time left", () => {
    expect(advise(30, [row({ samples_needed: null })])?.message).toBe(
      "the window closes in 30m; no guardrail reports missing samples.",
    );
    expect(advise(61, [row({ samples_needed: null })])).toEqual({
      time_left_ms: 0,
      samples_missing: null,
      suggested_percent: null,
      suggested_window_ms: null,
      message: "no guardrail reports how many samples it lacks.",
    });
  });

  it("ignores segment, non-critical, unjudged and proven rows", () => {
    const big = { samples_needed: 1_000_000 };
    const advice = advise(30, [
      row(),
      row({ ...big, segment: { endpoint: "/a" } }),
      row({ ...big, critical: false }),
      row({ ...big, judged: false }),
      row({ ...big, margin_proven: true }),
    ]);
    expect(advice?.samples_missing).toBe(2_700);
    expect(advice?.suggested_percent).toBe(5);
  });

  it("between equal needs, picks by metric then statistic name, whatever the order given", () => {
    const a = row({ metric: "a_rate" });
    const b = row({ metric: "b_rate" });
    const p50 = row({ metric: "a_rate", statistic: "p50" });
    for (const rows of [
      [a, b, p50],
      [p50, b, a],
      [b, a, p50],
    ])
      expect(advise(30, rows)?.message).toMatch(/^the window closes in 30m; a_rate p50 needs about 2,700/);
    // A larger share needed wins over names.
    expect(advise(30, [a, row({ metric: "z_rate", samples_needed: 5_700 })])?.message).toMatch(
      /; z_rate needs about 5,700 more canary samples; .* a canary at 10% gathers them/,
    );
  });
});
