import { describe, expect, it } from "vitest";
import { catastropheStatistic, checkCatastrophe } from "../../../mcp-server/core/decide/catastrophe.js";
import type { MetricPolicy } from "../../../mcp-server/core/policy/schema.js";
import { makePolicy, makeReport, makeRow } from "./fixtures.js";

// The catastrophe net on its own: which row it reads, the limit's direction, its count guard and
// its sentence.

const ratio = (over: Partial<MetricPolicy> = {}): MetricPolicy =>
  ({ ...makePolicy().metrics[0]!, catastrophe: { limit: 0.2, min_count: 100 }, ...over }) as MetricPolicy;
const latency: MetricPolicy = {
  name: "latency",
  type: "histogram",
  series: "h",
  percentiles: [50, 99],
  bad: "increase",
  tolerance: { absolute: 50 },
  critical: true,
  catastrophe: { limit: 2000, min_count: 50, percentile: 99 },
};

describe("checkCatastrophe", () => {
  it("reads the whole cohort's judged row, never a segment's or a descriptive one", () => {
    const rows = [
      makeRow({ segment: { endpoint: "/a" }, canary: { value: 0.9, count: 500 } }),
      makeRow({ statistic: "segment_error_rate_p99", canary: { value: 0.9, count: 500 } }),
      makeRow({ judged: false, canary: { value: 0.9, count: 500 } }),
      makeRow({ canary: { value: 0.1, count: 500 } }),
    ];
    expect(checkCatastrophe(makeReport({ rows }), ratio())).toBeUndefined();
    expect(
      checkCatastrophe(makeReport({ rows: [makeRow({ canary: { value: 0.3, count: 500 } })] }), ratio()),
    ).toEqual({
      code: "catastrophe",
      metric: "checkout_error_rate",
      segmentKey: "",
      message:
        "checkout_error_rate: canary 30% is above the catastrophe limit 20% with 500 samples (guard: at least 100)",
    });
  });

  it("is strict at the limit and needs the minimum count", () => {
    const at = (value: number, count: number) =>
      checkCatastrophe(makeReport({ rows: [makeRow({ canary: { value, count } })] }), ratio());
    expect(at(0.2, 500)).toBeUndefined();
    expect(at(0.21, 99)).toBeUndefined();
    expect(at(0.21, 100)).toBeDefined();
    expect(checkCatastrophe(makeReport({ rows: [] }), ratio())).toBeUndefined();
    expect(checkCatastrophe(makeReport(), ratio({ catastrophe: undefined }))).toBeUndefined();
  });

  it("a decrease metric trips below its limit, also when its row shows the complement", () => {
    const success = ratio({ bad: "decrease", catastrophe: { limit: 0.9, min_count: 50 } });
    const row = (value: number, statistic = "rate") => makeRow({ statistic, canary: { value, count: 500 } });
    expect(checkCatastrophe(makeReport({ rows: [row(0.9)] }), success)).toBeUndefined();
    expect(checkCatastrophe(makeReport({ rows: [row(0.85)] }), success)?.message).toContain(
      "canary 85% is below the catastrophe limit 90%",
    );
    // complement_rate rows show failures: 0.15 failures is an 85% success rate.
    expect(
      checkCatastrophe(makeReport({ rows: [row(0.15, "complement_rate")] }), success)?.message,
    ).toContain("canary 85% is below");
    expect(checkCatastrophe(makeReport({ rows: [row(0.05, "complement_rate")] }), success)).toBeUndefined();
  });

  it("a histogram's limit applies to its percentile, in the metric's unit", () => {
    expect(catastropheStatistic(latency)).toBe("p99");
    expect(catastropheStatistic(ratio())).toBeUndefined();
    const rows = [
      makeRow({ metric: "latency", statistic: "p50", canary: { value: 2500, count: 500 } }),
      makeRow({ metric: "latency", statistic: "p99", canary: { value: 2500.5, count: 500 } }),
    ];
    expect(checkCatastrophe(makeReport({ rows }), latency)?.message).toBe(
      "latency: canary p99 2,501 is above the catastrophe limit 2,000 with 500 samples (guard: at least 50)",
    );
  });
});
