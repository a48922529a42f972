import { describe, expect, it } from "vitest";
import { reportToMarkdown } from "../../../mcp-server/core/compare/markdown.js";
import { formatTimes } from "../../../mcp-server/core/compare/status.js";
import { classifyRow } from "../../../mcp-server/core/decide/classify-row.js";
import { formatEvidence } from "../../../mcp-server/core/decide/format.js";
import { lookLabel } from "../../../mcp-server/core/history.js";
import { makePolicy, makeReport, makeRow } from "../decide/fixtures.js";

// The readability defects people reported, each pinned: huge and tiny evidence, a complement rate
// shown as the rate people know, the same difference in a reason and in the table, 1-based steps
// and no stale mark on an ended deployment.

describe("readable numbers in reports and reasons", () => {
  it("shows evidence past a million as past a million, and small evidence with a digit", () => {
    expect(formatEvidence(4.6e299)).toBe(">1,000,000x");
    expect(formatTimes(4.6e299)).toBe(">1,000,000x");
    expect(formatEvidence(0.03)).toBe("0.03x");
    expect(formatEvidence(340)).toBe("340x");
    const md = reportToMarkdown(makeReport({ rows: [makeRow({ margin_evidence: 4.6e299 })] }));
    expect(md).toContain(">1,000,000x (proven)");
    expect(md).not.toMatch(/e\+\d+x/);
  });

  it("shows a rate judged on its complement as the rate itself (a hit rate of 84.4%)", () => {
    const row = makeRow({
      metric: "cache_hit_rate",
      statistic: "complement_rate",
      canary: { value: 0.156, count: 10_000, events: 1_560 },
      control: { value: 0.15, count: 100_000, events: 15_000 },
      rel_diff: 0.04,
      abs_diff: 0.006,
      status: "regression",
      evidence: 400,
      margin_proven: false,
    });
    const md = reportToMarkdown(makeReport({ rows: [row] }));
    expect(md).not.toContain("complement_rate");
    expect(md).toContain("| cache_hit_rate | rate (higher is better) |");
    expect(md).toContain("84.4% (8,440/10,000)");
    expect(md).toContain("85% (85,000/100,000)");
    // (0.844 - 0.85) / 0.85
    expect(md).toContain("| -0.7% |");
    const reason = classifyRow(row, makePolicy().metrics[0], 0.05).findings[0]?.message ?? "";
    expect(reason).toContain("canary 84.4% vs control 85% (-0.7%)");
  });

  it("prints a row's difference the same in the reason and in the table", () => {
    const row = makeRow({
      status: "regression",
      canary: { value: 0.0303, count: 1_187, events: 36 },
      control: { value: 0.00533, count: 119_554, events: 637 },
      rel_diff: 4.692,
      evidence: 2.3e6,
      margin_proven: false,
      margin_evidence: 0.03,
    });
    const reason = classifyRow(row, makePolicy().metrics[0], 0.05).findings[0]?.message ?? "";
    const inReason = /\(([+-][\d.,]+%)\)/.exec(reason)?.[1];
    expect(inReason).toBe("+469%");
    expect(reportToMarkdown(makeReport({ rows: [row] }))).toContain(`| ${inReason} |`);
  });

  it("numbers steps from 1 and never calls an ended deployment's decision stale", () => {
    expect(reportToMarkdown(makeReport({ step: 0 }))).toMatch(/, step 1 \(/);
    const policy = makePolicy();
    const base = { policy, percent: 100, step: policy.ladder.length - 1 };
    const decision = { id: 9, step: 1, next_check_at: 0, verdict: "promote" as const };
    expect(lookLabel({ ...base, state: "completed" }, decision, 10_000)).toMatchObject({
      stale: false,
      overdue: false,
    });
    expect(lookLabel({ ...base, state: "rolled_back" }, decision, 10_000)).toMatchObject({
      stale: false,
      overdue: false,
    });
    const running = lookLabel({ ...base, state: "canary" }, decision, 10_000);
    expect(running).toMatchObject({ stale: true, overdue: true });
    expect(running.message).toContain(`decided on step 2 (${policy.ladder[1]?.percent}%)`);
  });
});
