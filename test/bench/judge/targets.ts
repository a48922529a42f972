import type { CellSummary } from "./summary.js";

// The docs/statistics.md targets for our judge, checked against the measured cells. A target is "met" on the
// point estimate; the measured text carries the Wilson interval so a reader can see how firm it is.
// Cells a run did not include (filters, --quick) show as "not run".

export interface TargetCheck {
  target: string;
  status: "met" | "missed" | "not run";
  measured: string;
}

export const OURS = "ours";
export const ORACLE = "oracle";

const pct = (x: number): string => `${(x * 100).toFixed(2)}%`;
const ci = (s: CellSummary): string => `[${pct(s.rollbackCi[0])}, ${pct(s.rollbackCi[1])}]`;
const detCi = (s: CellSummary): string => `[${pct(s.detectionCi[0])}, ${pct(s.detectionCi[1])}]`;

function cells(all: readonly CellSummary[], f: (s: CellSummary) => boolean, judge = OURS): CellSummary[] {
  return all.filter((s) => s.judge === judge && f(s));
}

function check(
  target: string,
  found: CellSummary[],
  ok: (s: CellSummary) => boolean,
  show: (s: CellSummary) => string,
): TargetCheck {
  if (found.length === 0) return { target, status: "not run", measured: "-" };
  const failing = found.filter((s) => !ok(s));
  const worst = failing[0] ?? found[0]!;
  const where = (s: CellSummary) => `${s.scenario} @ ${s.rps} rps, ${s.lookEveryMinutes}m looks`;
  const measured =
    failing.length > 0
      ? `missed in ${failing.length} of ${found.length} cells: ${failing.map((s) => `${where(s)}: ${show(s)}`).join("; ")}`
      : `met in all ${found.length} cells; e.g. ${where(worst)}: ${show(worst)}`;
  return { target, status: failing.length > 0 ? "missed" : "met", measured };
}

export function checkTargets(all: readonly CellSummary[]): TargetCheck[] {
  const out: TargetCheck[] = [];
  const falseRate = (s: CellSummary) => `${pct(s.rollbackRate)} ${ci(s)} (n=${s.replicates})`;
  const byRate = (list: CellSummary[]) => [...list].sort((a, b) => b.rollbackRate - a.rollbackRate);

  out.push(
    check(
      "A/A false rollback <= 1% per deployment at 15-minute looks (error policy, every A/A scenario but clustered)",
      byRate(
        cells(all, (s) => s.family === "aa" && s.lookEveryMinutes === 15 && s.scenario !== "aa-clustered"),
      ),
      (s) => s.rollbackRate <= 0.01,
      falseRate,
    ),
  );
  out.push(
    check(
      "A/A false rollback <= alpha (5%) at 1-minute looks (error policy, every A/A scenario but clustered)",
      byRate(
        cells(all, (s) => s.family === "aa" && s.lookEveryMinutes === 1 && s.scenario !== "aa-clustered"),
      ),
      (s) => s.rollbackRate <= 0.05,
      falseRate,
    ),
  );
  out.push(
    check(
      "Clustered errors (Geometric retries): false rollback <= 2%",
      byRate(cells(all, (s) => s.scenario === "aa-clustered")),
      (s) => s.rollbackRate <= 0.02,
      falseRate,
    ),
  );
  out.push(
    check(
      "Five-metric policy, A/A at 15-minute looks: false rollback <= 1% (reported alongside)",
      byRate(cells(all, (s) => s.family === "aa-five" && s.lookEveryMinutes === 15)),
      (s) => s.rollbackRate <= 0.01,
      falseRate,
    ),
  );
  out.push(
    check(
      "Liveness at 1 000 rps: >= 90% of A/A deployments complete within 1.5x the nominal ladder time (error policy)",
      cells(all, (s) => s.family === "aa" && s.rps === 1000).sort(
        (a, b) => a.completedWithin150Rate - b.completedWithin150Rate,
      ),
      (s) => s.completedWithin150Rate >= 0.9,
      (s) =>
        `${pct(s.completedWithin150Rate)} [${pct(s.completedWithin150Ci[0])}, ${pct(s.completedWithin150Ci[1])}], median ${s.medianCompletionRatio?.toFixed(2) ?? "-"}x nominal`,
    ),
  );
  out.push(
    check(
      "At 100 rps: every hold that lacks samples names a percent that would end it (share of A/A completing reported)",
      cells(all, (s) => s.family === "aa" && s.rps === 100),
      (s) => s.holdsNamingPercentRate === null || s.holdsNamingPercentRate >= 1,
      (s) =>
        `${s.holdsNamingPercentRate === null ? "no such holds" : `${pct(s.holdsNamingPercentRate)} of ${s.holdsNeedingSamples} holds name a percent (${pct(s.holdsWithinWindowRate ?? 0)} within one window)`}; ${pct(s.completedRate)} completed (${pct(s.completedWithin150Rate)} within 1.5x)`,
    ),
  );
  out.push(
    check(
      "Error x2 at 100 rps, 1-minute looks: >= 95% detected, median <= 35 min",
      cells(all, (s) => s.scenario === "err-x2" && s.rps === 100 && s.lookEveryMinutes === 1),
      (s) => s.detectionRate >= 0.95 && (s.minutesToRollback?.median ?? Number.POSITIVE_INFINITY) <= 35,
      (s) =>
        `${pct(s.detectionRate)} ${detCi(s)}, median ${s.minutesToRollback?.median.toFixed(0) ?? "-"} min`,
    ),
  );
  out.push(
    check(
      "Error x5, 1-minute looks: median time to rollback <= 5 min",
      cells(all, (s) => s.scenario === "err-x5" && s.lookEveryMinutes === 1),
      (s) => (s.minutesToRollback?.median ?? Number.POSITIVE_INFINITY) <= 5,
      (s) => `median ${s.minutesToRollback?.median.toFixed(0) ?? "-"} min, detected ${pct(s.detectionRate)}`,
    ),
  );
  out.push(
    check(
      "Error x5, 15-minute looks: rolled back at the first look",
      cells(all, (s) => s.scenario === "err-x5" && s.lookEveryMinutes === 15),
      (s) => s.rollbackAtFirstLookRate >= 0.95,
      (s) => `${pct(s.rollbackAtFirstLookRate)} at the first look, detected ${pct(s.detectionRate)}`,
    ),
  );
  out.push(
    check(
      "Error x1.5 at 100 rps: >= 90% rolled back before the 25% stage",
      cells(all, (s) => s.scenario === "err-x1.5" && s.rps === 100),
      (s) => s.detectionBefore25Rate >= 0.9,
      (s) => `${pct(s.detectionBefore25Rate)} before 25% (detected ${pct(s.detectionRate)})`,
    ),
  );
  out.push(
    check(
      "p99 +10% at 10 000 rps: detected in the 1% stage",
      cells(all, (s) => s.scenario === "p99-plus-10pct" && s.rps === 10_000),
      (s) => (s.stageAtRollback["1"] ?? 0) / s.replicates >= 0.95,
      (s) =>
        `${pct((s.stageAtRollback["1"] ?? 0) / s.replicates)} rolled back at 1% (detected ${pct(s.detectionRate)})`,
    ),
  );
  out.push(
    check(
      "p99.9-only tail at 100 rps: insufficient_data at 1% and 5% (or a proven regression), never a pass",
      cells(all, (s) => s.scenario === "p999-tail" && s.rps === 100),
      (s) =>
        s.tailEarly !== null &&
        s.tailEarly.proven === 0 &&
        s.tailEarly.insufficientShare + s.tailEarly.regressionShare >= 0.999,
      (s) =>
        s.tailEarly
          ? `of ${s.tailEarly.looks} looks at 1%/5%: ${pct(s.tailEarly.insufficientShare)} insufficient_data, ${pct(s.tailEarly.regressionShare)} already a proven regression, ${s.tailEarly.proven} passed`
          : "no tail row reported",
    ),
  );
  const x2 = cells(all, (s) => s.scenario === "err-x2" && s.rps === 100);
  const oracleMedian = (s: CellSummary): number | undefined =>
    all.find(
      (o) =>
        o.judge === ORACLE &&
        o.scenario === s.scenario &&
        o.rps === s.rps &&
        o.lookEveryMinutes === s.lookEveryMinutes,
    )?.minutesToRollback?.median;
  const againstOracle = (s: CellSummary): string => {
    const o = oracleMedian(s);
    const m = s.minutesToRollback?.median;
    if (o === undefined) return "oracle not run";
    return `median ${m?.toFixed(0) ?? "-"} min vs oracle ${o.toFixed(0)} (${m === undefined ? "-" : (m / o).toFixed(2)}x), detected ${pct(s.detectionRate)}`;
  };
  for (const [looks, factor] of [
    [1, 1.2],
    [15, 1],
  ] as const) {
    out.push(
      check(
        `Round 2: error x2 at 100 rps, ${looks}-minute looks: median at most ${factor === 1 ? "the oracle's" : `${factor}x the oracle's`}`,
        x2.filter((s) => s.lookEveryMinutes === looks),
        (s) => {
          const o = oracleMedian(s);
          const m = s.minutesToRollback?.median;
          return o !== undefined && m !== undefined && s.detectionRate >= 0.95 && m <= factor * o;
        },
        againstOracle,
      ),
    );
  }
  out.push(
    check(
      "Round 2: error x5 at 100 rps, 1-minute looks: median at most 4 min",
      cells(all, (s) => s.scenario === "err-x5" && s.rps === 100 && s.lookEveryMinutes === 1),
      (s) => (s.minutesToRollback?.median ?? Number.POSITIVE_INFINITY) <= 4,
      (s) => `${againstOracle(s)}`,
    ),
  );
  out.push(
    check(
      "Round 2: error x1.5 at 100 rps: >= 95% rolled back before the 25% stage",
      cells(all, (s) => s.scenario === "err-x1.5" && s.rps === 100),
      (s) => s.detectionBefore25Rate >= 0.95,
      (s) => `${pct(s.detectionBefore25Rate)} before 25% (detected ${pct(s.detectionRate)})`,
    ),
  );
  const blast = x2;
  out.push(
    check(
      "Blast radius at x2, 100 rps: at most 1/5 of the Kayenta-style judge's canary requests",
      blast,
      (s) => {
        const k = all.find(
          (x) =>
            x.judge === "kayenta" &&
            x.scenario === s.scenario &&
            x.rps === s.rps &&
            x.lookEveryMinutes === s.lookEveryMinutes,
        );
        return k !== undefined && s.blastRadius.meanRequests <= k.blastRadius.meanRequests / 5;
      },
      (s) => {
        const k = all.find(
          (x) =>
            x.judge === "kayenta" &&
            x.scenario === s.scenario &&
            x.rps === s.rps &&
            x.lookEveryMinutes === s.lookEveryMinutes,
        );
        return k
          ? `${Math.round(s.blastRadius.meanRequests)} vs Kayenta ${Math.round(k.blastRadius.meanRequests)} requests (ratio ${(s.blastRadius.meanRequests / k.blastRadius.meanRequests).toFixed(2)})`
          : "Kayenta not run";
      },
    ),
  );
  return out;
}
