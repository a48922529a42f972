import type { Family } from "./scenarios.js";
import type { DeploymentOutcome } from "./simulate.js";
import { NOMINAL_MINUTES } from "./simulate.js";

// From per-deployment outcomes to the figures docs/statistics.md asks for, per (scenario, traffic, cadence,
// judge). Rates carry Wilson 95% intervals: they are Monte Carlo estimates, and a target is only
// met when the interval says so, not when a lucky run does.

export interface CellSummary {
  scenario: string;
  family: Family;
  aa: boolean;
  rps: number;
  lookEveryMinutes: number;
  judge: string;
  replicates: number;
  /** Every rollback; in A/A every one is false. */
  rollbacks: number;
  rollbackRate: number;
  rollbackCi: [number, number];
  /** Rollbacks after the canary's difference began: detections (0 in A/A). */
  detections: number;
  detectionRate: number;
  detectionCi: [number, number];
  /** Rollbacks before the difference began (a regression that starts at 25%): false rollbacks. */
  rollbacksBeforeOnset: number;
  /** Minutes from the onset to the rollback over detections (in A/A: from the start, over rollbacks). */
  minutesToRollback: { median: number; p90: number } | null;
  rollbackAtFirstLookRate: number;
  /** Rollbacks (A/A) or detections (otherwise) by the canary percent they happened at. */
  stageAtRollback: Record<string, number>;
  /** Share of replicates detected at 1% or 5%. */
  detectionBefore25Rate: number;
  /** Canary requests (and bad ones: errors, or slow requests for latency families) served while exposed. */
  blastRadius: { meanRequests: number; medianRequests: number; meanBad: number; medianBad: number };
  insufficientLookRate: number;
  completedRate: number;
  completedWithin150Rate: number;
  completedWithin150Ci: [number, number];
  /** Median completion time over the nominal ladder time, among completed deployments. */
  medianCompletionRatio: number | null;
  /** Of the holds that lacked samples, the share that named a percent to end them. */
  holdsNamingPercentRate: number | null;
  /** Share of those holds whose percent gathers the samples within one window. */
  holdsWithinWindowRate: number | null;
  holdsNeedingSamples: number;
  /** Our judge: looks at 1%/5% with a tail row, the shares insufficient and already regressed, and how many passed it. */
  tailEarly: { looks: number; insufficientShare: number; regressionShare: number; proven: number } | null;
}

/** Wilson score interval at 95%. */
export function wilson(successes: number, n: number): [number, number] {
  if (n === 0) return [0, 1];
  const z = 1.959963984540054;
  const p = successes / n;
  const denom = 1 + (z * z) / n;
  const centre = (p + (z * z) / (2 * n)) / denom;
  const half = (z * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n))) / denom;
  return [Math.max(0, centre - half), Math.min(1, centre + half)];
}

/** The q-quantile of values (type 7, as R's default); NaN for an empty list. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const s = [...values].sort((a, b) => a - b);
  const h = (s.length - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.ceil(h);
  return s[lo]! + (h - lo) * (s[hi]! - s[lo]!);
}

const mean = (v: readonly number[]): number =>
  v.length === 0 ? Number.NaN : v.reduce((a, b) => a + b, 0) / v.length;

export function summarise(
  meta: {
    scenario: string;
    family: Family;
    aa: boolean;
    rps: number;
    lookEveryMinutes: number;
    judge: string;
  },
  outcomes: readonly DeploymentOutcome[],
): CellSummary {
  const n = outcomes.length;
  const rolled = outcomes.filter((o) => o.rolledBack);
  const detected = rolled.filter((o) => o.onsetMinute !== null && (o.rollbackMinute ?? 0) > o.onsetMinute);
  const timed = meta.aa ? rolled : detected;
  const delays = timed.map((o) => (o.rollbackMinute ?? 0) - (o.onsetMinute ?? 0));
  const stage: Record<string, number> = {};
  for (const o of timed) stage[String(o.rollbackPercent)] = (stage[String(o.rollbackPercent)] ?? 0) + 1;
  const latencyFamily = meta.family === "latency-regression" || meta.family === "cold-start";
  const bad = outcomes.map((o) => (latencyFamily ? o.exposedSlow : o.exposedErrors));
  const requests = outcomes.map((o) => o.exposedRequests);
  const completed = outcomes.filter((o) => o.completed);
  const within = completed.filter(
    (o) => (o.completionMinute ?? Number.POSITIVE_INFINITY) <= 1.5 * NOMINAL_MINUTES,
  ).length;
  const looks = outcomes.reduce((s, o) => s + o.looks, 0);
  const insufficient = outcomes.reduce((s, o) => s + o.insufficientLooks, 0);
  const needing = outcomes.reduce((s, o) => s + o.holdsNeedingSamples, 0);
  const naming = outcomes.reduce((s, o) => s + o.holdsNamingPercent, 0);
  const withinWindow = outcomes.reduce((s, o) => s + o.holdsWithinWindow, 0);
  const tailLooks = outcomes.reduce((s, o) => s + o.tailEarlyLooks, 0);
  return {
    ...meta,
    replicates: n,
    rollbacks: rolled.length,
    rollbackRate: n ? rolled.length / n : 0,
    rollbackCi: wilson(rolled.length, n),
    detections: detected.length,
    detectionRate: n ? detected.length / n : 0,
    detectionCi: wilson(detected.length, n),
    rollbacksBeforeOnset: rolled.length - detected.length,
    minutesToRollback: delays.length ? { median: quantile(delays, 0.5), p90: quantile(delays, 0.9) } : null,
    rollbackAtFirstLookRate: n ? outcomes.filter((o) => o.rollbackAtFirstLook).length / n : 0,
    stageAtRollback: stage,
    detectionBefore25Rate: n ? detected.filter((o) => (o.rollbackPercent ?? 100) <= 5).length / n : 0,
    blastRadius: {
      meanRequests: mean(requests),
      medianRequests: quantile(requests, 0.5),
      meanBad: mean(bad),
      medianBad: quantile(bad, 0.5),
    },
    insufficientLookRate: looks ? insufficient / looks : 0,
    completedRate: n ? completed.length / n : 0,
    completedWithin150Rate: n ? within / n : 0,
    completedWithin150Ci: wilson(within, n),
    medianCompletionRatio: completed.length
      ? quantile(
          completed.map((o) => (o.completionMinute ?? 0) / NOMINAL_MINUTES),
          0.5,
        )
      : null,
    holdsNamingPercentRate: needing ? naming / needing : null,
    holdsWithinWindowRate: needing ? withinWindow / needing : null,
    holdsNeedingSamples: needing,
    tailEarly: tailLooks
      ? {
          looks: tailLooks,
          insufficientShare: outcomes.reduce((s, o) => s + o.tailEarlyInsufficient, 0) / tailLooks,
          regressionShare: outcomes.reduce((s, o) => s + o.tailEarlyRegression, 0) / tailLooks,
          proven: outcomes.reduce((s, o) => s + o.tailEarlyProven, 0),
        }
      : null,
  };
}
