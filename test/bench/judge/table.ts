import { ALL_JUDGES } from "./judges/index.js";
import { FAMILY_TITLES, type Family, SCENARIOS } from "./scenarios.js";
import type { CellSummary } from "./summary.js";
import type { TargetCheck } from "./targets.js";
import { ORACLE } from "./targets.js";

// Markdown tables, one per scenario family, judges side by side on each (scenario, traffic, looks).

const pct = (x: number): string => `${(x * 100).toFixed(x > 0 && x < 0.001 ? 2 : 1)}%`;
const pctCi = (x: number, ci: [number, number]): string => `${pct(x)} [${pct(ci[0])}, ${pct(ci[1])}]`;
const count = (x: number): string => (Number.isFinite(x) ? Math.round(x).toLocaleString("en-US") : "-");

function judgeLabel(id: string): string {
  return ALL_JUDGES.find((j) => j.id === id)?.id ?? id;
}

function stageText(s: CellSummary): string {
  const parts = ["1", "5", "25", "50"].map((p) => String(s.stageAtRollback[p] ?? 0));
  return parts.join("/");
}

function aaRow(s: CellSummary): string {
  const completion = s.medianCompletionRatio === null ? "-" : `${s.medianCompletionRatio.toFixed(2)}x`;
  return [
    s.scenario,
    count(s.rps),
    `${s.lookEveryMinutes}m`,
    judgeLabel(s.judge),
    String(s.replicates),
    pctCi(s.rollbackRate, s.rollbackCi),
    stageText(s),
    pct(s.completedRate),
    pct(s.completedWithin150Rate),
    completion,
    pct(s.insufficientLookRate),
    s.holdsNamingPercentRate === null
      ? "-"
      : `${pct(s.holdsNamingPercentRate)} (${pct(s.holdsWithinWindowRate ?? 0)})`,
  ].join(" | ");
}

/** The oracle's cell for the same scenario, traffic and cadence, if it ran. */
function oracleOf(s: CellSummary, all: readonly CellSummary[]): CellSummary | undefined {
  return all.find(
    (o) =>
      o.judge === ORACLE &&
      o.scenario === s.scenario &&
      o.rps === s.rps &&
      o.lookEveryMinutes === s.lookEveryMinutes,
  );
}

const ratio = (x: number, limit: number): string =>
  Number.isFinite(x) && limit > 0 ? `${(x / limit).toFixed(2)}x` : "-";

/** Median and p90 minutes and mean canary requests, each over the oracle's. */
export function againstOracle(s: CellSummary, oracle: CellSummary | undefined): string {
  if (!oracle || s.judge === ORACLE) return "-";
  const t = s.minutesToRollback;
  const o = oracle.minutesToRollback;
  const median = t && o ? ratio(t.median, o.median) : "-";
  const p90 = t && o ? ratio(t.p90, o.p90) : "-";
  return `${median} / ${p90} / ${ratio(s.blastRadius.meanRequests, oracle.blastRadius.meanRequests)}`;
}

function regressionRow(s: CellSummary, all: readonly CellSummary[]): string {
  const t = s.minutesToRollback;
  return [
    s.scenario,
    count(s.rps),
    `${s.lookEveryMinutes}m`,
    judgeLabel(s.judge),
    String(s.replicates),
    pctCi(s.detectionRate, s.detectionCi),
    pct(s.rollbacksBeforeOnset / Math.max(1, s.replicates)),
    t ? `${t.median.toFixed(0)} / ${t.p90.toFixed(0)}` : "-",
    againstOracle(s, oracleOf(s, all)),
    pct(s.rollbackAtFirstLookRate),
    stageText(s),
    pct(s.detectionBefore25Rate),
    count(s.blastRadius.meanRequests),
    count(s.blastRadius.meanBad),
    pct(s.insufficientLookRate),
  ].join(" | ");
}

const AA_HEADER = [
  "scenario",
  "rps",
  "looks",
  "judge",
  "n",
  "false rollback [95% CI]",
  "rollbacks at 1/5/25/50%",
  "completed",
  "completed <= 1.5x nominal",
  "median time / nominal",
  "insufficient-data looks",
  "holds naming a percent (within one window)",
];
const REGRESSION_HEADER = [
  "scenario",
  "rps",
  "looks",
  "judge",
  "n",
  "detected [95% CI]",
  "rolled back before onset",
  "minutes to rollback median / p90",
  "vs oracle: median / p90 / requests",
  "at first look",
  "detections at 1/5/25/50%",
  "before 25%",
  "blast radius: canary requests (mean)",
  "bad canary requests (mean)",
  "insufficient-data looks",
];

function table(header: string[], rows: string[]): string {
  return [
    `| ${header.join(" | ")} |`,
    `|${header.map(() => "---").join("|")}|`,
    ...rows.map((r) => `| ${r} |`),
  ].join("\n");
}

export function renderTables(summaries: readonly CellSummary[]): string {
  const out: string[] = [];
  const families = [...new Set(SCENARIOS.map((s) => s.family))] as Family[];
  for (const family of families) {
    // The oracle knows an error ratio; elsewhere it has nothing to know.
    const rows = summaries.filter(
      (s) => s.family === family && (s.judge !== ORACLE || family === "error-regression"),
    );
    if (rows.length === 0) continue;
    const aa = rows[0]!.aa;
    out.push(`### ${FAMILY_TITLES[family]}`);
    out.push("");
    out.push(
      table(
        aa ? AA_HEADER : REGRESSION_HEADER,
        rows.map((r) => (aa ? aaRow(r) : regressionRow(r, rows))),
      ),
    );
    if (!aa) {
      out.push("");
      out.push(
        family === "error-regression"
          ? "Bad canary requests are canary errors served from the onset until rollback (or completion, or the horizon). The oracle is the SPRT that knows the true ratio and its onset, on the same draws: the limit no judge for unknown effects can beat; vs oracle gives each judge's figures over its."
          : "Bad canary requests are canary requests slower than the baseline p99 bucket bound, from the onset until rollback (or completion, or the horizon).",
      );
    }
    out.push("");
  }
  return out.join("\n");
}

export function renderTargets(checks: readonly TargetCheck[]): string {
  const rows = checks.map((c) => [c.status.toUpperCase(), c.target, c.measured].join(" | "));
  return table(["status", "target (docs/statistics.md)", "measured (ours)"], rows);
}
