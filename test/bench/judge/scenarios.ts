import { BASE_LATENCY, type LatencyShape } from "./latency.js";
import { normalQuantile } from "./normal.js";

// The benchmark's scenarios (docs/statistics.md, "The benchmark the judge must clear"). A scenario says how
// the world moves (shared by both cohorts: drift, incidents, overdispersion, retries) and what the
// canary does differently (nothing, in A/A). Canary effects may depend on the judge's own path (the
// share it has reached, minutes since its last step), because the ladder follows the judge.

export type PolicyKind = "errors" | "five";
export type Family = "aa" | "aa-five" | "cold-start" | "error-regression" | "latency-regression";

export const FAMILY_TITLES: Record<Family, string> = {
  aa: "A/A, error-rate policy (any rollback is false)",
  "aa-five": "A/A, five-metric policy: errors + p50/p90/p99/p99.9 (any rollback is false)",
  "cold-start": "Cold start: +30% latency for 5 minutes after each step (five-metric policy)",
  "error-regression": "Error-rate regressions, error-rate policy (any rollback is a detection)",
  "latency-regression": "Latency regressions, five-metric policy (any rollback is a detection)",
};

/** What the canary does differently at one minute; `key` names it for caching draws. */
export interface CanaryEffect {
  key: string;
  errorMultiplier: number;
  latency?: (shape: LatencyShape) => LatencyShape;
}

export interface Scenario {
  name: string;
  family: Family;
  description: string;
  /** True when the canary is identical to control: every rollback is false. */
  aa: boolean;
  policy: PolicyKind;
  /** Minutes of warm-up after each step in our policy (peers have no such setting). */
  warmupMinutes: number;
  /** Baseline error rate at minute t, before incidents and overdispersion. */
  baseErrorRate: (minute: number) => number;
  /** 5-minute incidents once an hour in both cohorts: error rate x4 and latency x1.3. */
  incidents?: boolean;
  /** Per-minute error rate ~ Gamma(shape, p_t / shape), shared by both cohorts. */
  overdispersionShape?: number;
  /** Each failing request is followed by Geometric(mean) failing retries in the same cohort. */
  retryMean?: number;
  /** A Pareto tail in both cohorts' latency. */
  heavyTail?: boolean;
  /** The canary's difference, given the judge's path; null when it behaves like control. */
  effect: (percent: number, minutesInStep: number) => CanaryEffect | null;
}

const BASE_RATE = 0.005;
const constantRate = (): number => BASE_RATE;
const noEffect = (): null => null;

/** Base p99 of the log-normal body: 50 ms * exp(z_0.99 * 0.7), about 255 ms. */
export const BASE_P99_MS = BASE_LATENCY.medianMs * Math.exp(normalQuantile(0.99) * BASE_LATENCY.sigmaLog);

function errorEffect(multiplier: number): CanaryEffect {
  return { key: `err${multiplier}`, errorMultiplier: multiplier };
}

/** Drift 0.3% -> 0.7% over the nominal four-hour ladder, flat after it. */
function driftRate(minute: number): number {
  return 0.003 + 0.004 * Math.min(1, minute / 240);
}

function aa(
  name: string,
  description: string,
  extra: Partial<Scenario> = {},
  policy: PolicyKind = "errors",
): Scenario {
  return {
    name,
    family: policy === "errors" ? "aa" : "aa-five",
    description,
    aa: true,
    policy,
    warmupMinutes: 0,
    baseErrorRate: constantRate,
    effect: noEffect,
    ...extra,
  };
}

function regression(
  name: string,
  family: Family,
  description: string,
  effect: Scenario["effect"],
  policy: PolicyKind,
): Scenario {
  return {
    name,
    family,
    description,
    aa: false,
    policy,
    warmupMinutes: 0,
    baseErrorRate: constantRate,
    effect,
  };
}

const scaled =
  (factor: number) =>
  (s: LatencyShape): LatencyShape => ({ ...s, scale: s.scale * factor });

/** The body's sigma that puts p99 at the base p99 + 50 ms with the median unchanged. */
const SIGMA_P99_PLUS_50 = Math.log((BASE_P99_MS + 50) / BASE_LATENCY.medianMs) / normalQuantile(0.99);

const coldStart: Scenario["effect"] = (_percent, minutesInStep) =>
  minutesInStep < 5 ? { key: "cold", errorMultiplier: 1, latency: scaled(1.3) } : null;

export const SCENARIOS: readonly Scenario[] = [
  aa("aa-constant", "error rate 0.5%, constant"),
  aa("aa-drift", "error rate drifts 0.3% -> 0.7% over four hours", { baseErrorRate: driftRate }),
  aa("aa-incidents", "5-minute shared incidents once an hour: errors x4, latency x1.3", { incidents: true }),
  aa("aa-overdispersion", "per-minute error rate ~ Gamma(shape 5) around 0.5%, shared", {
    overdispersionShape: 5,
  }),
  aa("aa-clustered", "each failure followed by Geometric(mean 2) failing retries in its cohort", {
    retryMean: 2,
  }),
  aa("aa5-constant", "five-metric policy, constant", {}, "five"),
  aa("aa5-incidents", "five-metric policy, shared incidents", { incidents: true }, "five"),
  aa(
    "aa5-heavy-tail",
    "five-metric policy, 0.5% of requests from a Pareto(200 ms, 1.5) tail in both cohorts",
    { heavyTail: true },
    "five",
  ),
  {
    ...regression(
      "cold-start",
      "cold-start",
      "canary latency x1.3 for 5 minutes after each step, no warm-up",
      coldStart,
      "five",
    ),
  },
  {
    ...regression(
      "cold-start-warmup",
      "cold-start",
      "canary latency x1.3 for 5 minutes after each step, warmup: 5m",
      coldStart,
      "five",
    ),
    warmupMinutes: 5,
  },
  regression(
    "err-x1.2",
    "error-regression",
    "canary error rate x1.2 (0.5% -> 0.6%)",
    () => errorEffect(1.2),
    "errors",
  ),
  regression(
    "err-x1.5",
    "error-regression",
    "canary error rate x1.5 (0.5% -> 0.75%)",
    () => errorEffect(1.5),
    "errors",
  ),
  regression(
    "err-x2",
    "error-regression",
    "canary error rate x2 (0.5% -> 1%)",
    () => errorEffect(2),
    "errors",
  ),
  regression(
    "err-x5",
    "error-regression",
    "canary error rate x5 (0.5% -> 2.5%)",
    () => errorEffect(5),
    "errors",
  ),
  regression(
    "err-x2-from-25",
    "error-regression",
    "canary error rate x2 only once the canary reaches 25%",
    (percent) => (percent >= 25 ? errorEffect(2) : null),
    "errors",
  ),
  regression(
    "p99-plus-10pct",
    "latency-regression",
    "canary latency x1.1 (p99 +10%, exceedance above the old p99 1% -> 1.43%)",
    () => ({ key: "lat1.1", errorMultiplier: 1, latency: scaled(1.1) }),
    "five",
  ),
  regression(
    "p99-plus-50ms",
    "latency-regression",
    "canary body stretched (median kept) so p99 is 50 ms higher",
    () => ({ key: "p99+50", errorMultiplier: 1, latency: (s) => ({ ...s, sigmaLog: SIGMA_P99_PLUS_50 }) }),
    "five",
  ),
  regression(
    "p999-tail",
    "latency-regression",
    "0.1% of canary requests from a slow component (median 1 s): moves p99.9, barely p99",
    () => ({
      key: "tail",
      errorMultiplier: 1,
      latency: (s) => ({ ...s, slow: { share: 0.001, medianMs: 1000, sigmaLog: 0.3 } }),
    }),
    "five",
  ),
];

export function scenarioByName(name: string): Scenario | undefined {
  return SCENARIOS.find((s) => s.name === name);
}

/** Latency shape for a cohort given the world's shared scale and the scenario's heavy tail. */
export function worldLatency(scenario: Scenario, sharedScale: number): LatencyShape {
  const shape: LatencyShape = { ...BASE_LATENCY, scale: sharedScale };
  if (scenario.heavyTail) shape.heavy = { share: 0.005, xmMs: 200, alpha: 1.5 };
  return shape;
}
