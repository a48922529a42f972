import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createJudge } from "../../../mcp-server/core/compare/index.js";
import type { JudgeContext, StepStart, StoredSlice } from "../../../mcp-server/core/deployment.js";
import { parsePolicyText } from "../../../mcp-server/core/policy/parse.js";
import type { Policy } from "../../../mcp-server/core/policy/schema.js";
import type { Report } from "../../../mcp-server/core/report.js";
import { dimsKey, sliceSchema } from "../../../mcp-server/core/slice.js";

// The recorded scenarios in fixtures/scenarios/ do what fixtures/scenarios/README.md says, under
// the policies next to them, with the ladder moving on the nominal schedule (10:30, 11:00, 11:30)
// and a look every 5 minutes.

const DIR = join(import.meta.dirname, "..", "..", "..", "fixtures", "scenarios");
const T0 = Date.parse("2026-05-26T10:00:00Z");
const MINUTE = 60_000;
const SCENARIOS = [
  "healthy",
  "error-spike",
  "latency-tail",
  "shared-incident",
  "low-traffic",
  "broken-split",
] as const;
type Scenario = (typeof SCENARIOS)[number];

function loadPolicy(name: Scenario): Policy {
  const parsed = parsePolicyText(readFileSync(join(DIR, `${name}.policy.yaml`), "utf8"));
  if (!parsed.ok) throw new Error(`${name}.policy.yaml: ${JSON.stringify(parsed.errors)}`);
  return parsed.policy;
}

function loadSlices(name: Scenario): StoredSlice[] {
  return readFileSync(join(DIR, `${name}.ndjson`), "utf8")
    .trim()
    .split("\n")
    .map((line) => {
      const s = sliceSchema.parse(JSON.parse(line));
      expect(s.deployment_id).toBe(`${name}-1`);
      const stored: StoredSlice = {
        t: Date.parse(s.t),
        cohort: s.cohort,
        dimsKey: dimsKey(s.dims),
        counters: s.counters ?? {},
        histograms: s.histograms ?? {},
        moments: s.moments ?? {},
      };
      if (s.dims) stored.dims = s.dims;
      if (s.units !== undefined) stored.units = s.units;
      return stored;
    });
}

/** Reports at every 5-minute look from 10:05 to 12:00, keyed by minute. */
function replay(name: Scenario): Map<number, Report> {
  const policy = loadPolicy(name);
  const schedule: StepStart[] = [1, 5, 25, 50].map((percent, step) => ({
    step,
    percent,
    startedAt: T0 + step * 30 * MINUTE,
  }));
  const ctx: Omit<JudgeContext, "at"> = {
    deploymentId: `${name}-1`,
    policy,
    steps: [schedule[0]!],
    state: "canary",
  };
  const judge = createJudge(ctx);
  for (const s of loadSlices(name)) judge.addSlice(s);
  const reports = new Map<number, Report>();
  for (let m = 5; m <= 120; m += 5) {
    reports.set(m, judge.report(T0 + m * MINUTE, { intervals: false }));
    const next = schedule.find((s) => s.startedAt === T0 + m * MINUTE);
    if (next) ctx.steps = [...ctx.steps, next];
  }
  return reports;
}

function statusOf(
  report: Report,
  metric: string,
  statistic: string,
  segment?: Record<string, string>,
): string {
  const row = report.rows.find(
    (r) => r.metric === metric && r.statistic === statistic && dimsKey(r.segment) === dimsKey(segment),
  );
  if (!row) throw new Error(`no row ${metric} ${statistic}`);
  return row.status;
}

const judgedWhole = (r: Report) => r.rows.filter((x) => x.judged && !x.segment);
/** The last look of each step's window (the next step starts at the following minute mark). */
const WINDOW_ENDS = [25, 55, 85, 115];

describe("fixture scenarios", () => {
  it("are valid Slices and policies, small, and exactly what the generator writes", () => {
    for (const name of SCENARIOS) {
      expect(statSync(join(DIR, `${name}.ndjson`)).size).toBeLessThan(2_000_000);
      loadPolicy(name);
      expect(loadSlices(name).length).toBeGreaterThanOrEqual(240);
    }
    const out = mkdtempSync(join(tmpdir(), "scenarios-"));
    try {
      execFileSync(process.execPath, [join(DIR, "..", "..", "scripts", "make-scenarios.mjs"), out], {
        stdio: "ignore",
      });
      for (const file of readdirSync(out)) {
        expect(readFileSync(join(out, file), "utf8"), file).toBe(readFileSync(join(DIR, file), "utf8"));
      }
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  it("healthy: every guardrail proven within its margin at the end of each window, split healthy", () => {
    const reports = replay("healthy");
    for (const m of WINDOW_ENDS) {
      const r = reports.get(m)!;
      expect(r.srm.mismatch).toBe(false);
      for (const row of judgedWhole(r)) {
        expect(row.status, `${m} min ${row.statistic}`).toBe("no_difference");
        expect(row.margin_proven).toBe(true);
      }
    }
    for (const r of reports.values()) expect(r.rows.some((x) => x.status === "regression")).toBe(false);
  });

  it("error-spike: /checkout regresses within the 1% step, and the whole cohort with it; other endpoints never", () => {
    const reports = replay("error-spike");
    expect(statusOf(reports.get(10)!, "error_rate", "rate")).not.toBe("regression");
    const at20 = reports.get(20)!;
    expect(statusOf(at20, "error_rate", "rate", { endpoint: "/checkout" })).toBe("regression");
    expect(statusOf(at20, "error_rate", "rate")).toBe("regression");
    for (const r of reports.values()) {
      for (const endpoint of ["/cart", "/search"])
        expect(statusOf(r, "error_rate", "rate", { endpoint })).not.toBe("regression");
    }
  });

  it("latency-tail: the p99 regression appears only from the 25% step; p50 and p90 never regress", () => {
    const reports = replay("latency-tail");
    for (const [m, r] of reports) {
      if (m <= 60)
        expect(
          r.rows.some((x) => x.status === "regression"),
          `${m} min`,
        ).toBe(false);
      expect(statusOf(r, "latency", "p50")).not.toBe("regression");
      expect(statusOf(r, "latency", "p90")).not.toBe("regression");
    }
    expect(statusOf(reports.get(70)!, "latency", "p99")).toBe("regression");
  });

  it("shared-incident: an incident that hits both cohorts is never a regression", () => {
    for (const r of replay("shared-incident").values()) {
      expect(r.rows.some((x) => x.status === "regression")).toBe(false);
      expect(r.srm.mismatch).toBe(false);
    }
  });

  it("low-traffic: too little data to prove the error margin, and the report says how much more", () => {
    const reports = replay("low-traffic");
    for (const m of [25, 55]) {
      const r = reports.get(m)!;
      const rate = r.rows.find((x) => x.statistic === "rate")!;
      expect(rate.status).toBe("insufficient_data");
      expect(rate.samples_needed).toBeGreaterThan(0);
    }
    for (const r of reports.values()) expect(r.rows.some((x) => x.status === "regression")).toBe(false);
  });

  it("broken-split: the split check flags the canary's short share in every step", () => {
    const reports = replay("broken-split");
    for (const m of WINDOW_ENDS) {
      const srm = reports.get(m)!.srm;
      expect(srm.mismatch, `${m} min`).toBe(true);
      expect(srm.basis).toBe("units");
      expect(srm.observed_share!).toBeLessThan(0.7 * srm.expected_share!);
    }
  });
});
