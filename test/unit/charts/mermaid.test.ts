import { describe, expect, it } from "vitest";
import { MERMAID_POINTS, mermaidCharts } from "../../../mcp-server/core/charts/mermaid.js";
import { type History, historyUntil } from "../../../mcp-server/core/history.js";

// The Markdown report's charts: the newest decisions only, and none after the report's time.
// (The blocks' syntax is checked by the real mermaid in test/e2e/report.test.ts.)

const T0 = Date.parse("2026-05-26T10:00:00Z");

function historyWith(points: number): History {
  const at = (i: number): string => new Date(T0 + i * 60_000).toISOString();
  return {
    deployment: {
      deployment_id: "d-1",
      service: "s",
      version: null,
      author: null,
      state: "canary",
      step: 0,
      percent: 5,
      ladder: [
        { percent: 5, window: "1h" },
        { percent: 100, window: null },
      ],
      started_at: at(0),
      ended_at: null,
      policy_sha256: "x",
    },
    as_of: at(points),
    steps: [],
    events: [],
    decisions: Array.from({ length: points }, (_, i) => ({
      decision_id: i + 1,
      at: at(i + 1),
      step: 0,
      percent: 5,
      verdict: "hold" as const,
      reason_codes: [],
      reasons: [],
      next_check_at: at(i + 2),
      actor: "a",
    })),
    look: { decision_id: points, stale: false, overdue: false, message: "current" },
    metrics: [
      {
        key: "m rate",
        metric: "m",
        statistic: "rate",
        label: "rate",
        rate: true,
        bad: "increase",
        critical: true,
        interval_scale: "relative",
        tolerance: 0,
        margin: 0.5,
        points: Array.from({ length: points }, (_, i) => ({
          decision_id: i + 1,
          at: at(i + 1),
          step: 0,
          canary: 0.01 + i / 10_000,
          canary_low: null,
          canary_high: null,
          control: 0.01,
          control_low: null,
          control_high: null,
          canary_count: 100,
          rel_diff: i / 100,
          abs_diff: i / 10_000,
          ci_low: null,
          ci_high: null,
          evidence: 10 ** (i / 10),
          margin_evidence: 1,
          threshold: 20,
          status: "inconclusive",
        })),
      },
    ],
    split: [],
    exposure: { metrics: [], canary_requests: null, canary_unit_slices: null },
    report: null,
    hold: null,
  };
}

describe("Mermaid charts of a history", () => {
  it("draws the newest decisions only, log10 evidence clamped to the axis", () => {
    const [evidence, values] = mermaidCharts(historyWith(60));
    const lines = (evidence ?? "").split("\n").filter((l) => l.trim().startsWith("line ["));
    const first = JSON.parse(lines[0]?.trim().slice(5) ?? "[]") as number[];
    expect(first).toHaveLength(MERMAID_POINTS);
    // Decision 21 is the first of the newest 40 of 60: log10(10^(20/10)) = 2.
    expect(first[0]).toBe(2);
    expect(Math.max(...first)).toBe(5.9);
    expect(JSON.parse(lines[2]?.trim().slice(5) ?? "[]")).toEqual(Array(MERMAID_POINTS).fill(1.3));
    expect(values).toContain('y-axis "rate %"');
  });

  it("leaves out decisions after the report's time", () => {
    const h = historyUntil(historyWith(60), new Date(T0 + 10 * 60_000).toISOString());
    expect(h.decisions).toHaveLength(10);
    expect(h.metrics[0]?.points).toHaveLength(10);
    expect(mermaidCharts(historyWith(1))).toEqual([]);
  });
});
