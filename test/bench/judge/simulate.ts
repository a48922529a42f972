import type {
  CohortMinute,
  DeploymentJudge,
  DeploymentSetup,
  JudgeFactory,
  MinuteData,
  Rung,
} from "./judges/types.js";
import { boundIndexAtOrAbove, countAbove, drawLatencyCounts, type LatencyShape } from "./latency.js";
import { Rng } from "./rng.js";
import { BASE_P99_MS, type CanaryEffect, type Scenario, worldLatency } from "./scenarios.js";

// One simulated deployment per judge, all on the same world. The world (baseline rate, incidents,
// overdispersion) is drawn per minute and shared; each cohort's counts are drawn from a stream named
// by (replicate, minute, cohort, share), and cached, so judges at the same share on the same minute
// get identical data, and judges at different shares stay coupled through the world.

export const LADDER: readonly Rung[] = [
  { percent: 1, windowMinutes: 60 },
  { percent: 5, windowMinutes: 60 },
  { percent: 25, windowMinutes: 60 },
  { percent: 50, windowMinutes: 60 },
  { percent: 100, windowMinutes: undefined },
];
export const NOMINAL_MINUTES = LADDER.reduce((s, r) => s + (r.windowMinutes ?? 0), 0);
/** A deployment still running after twice the nominal ladder time counts as stalled. */
export const HORIZON_MINUTES = 2 * NOMINAL_MINUTES;

const STREAM_WORLD = 1;
const STREAM_INCIDENT = 2;
const STREAM_CANARY = 3;
const STREAM_CONTROL = 4;

/** Index of the bucket bound at or above the base p99: "slow" requests for blast radius. */
const SLOW_INDEX = boundIndexAtOrAbove(BASE_P99_MS);

export interface SimSettings {
  seed: number;
  rps: number;
  lookEveryMinutes: number;
  horizonMinutes?: number;
}

export interface DeploymentOutcome {
  judge: string;
  rolledBack: boolean;
  rollbackMinute: number | null;
  rollbackPercent: number | null;
  /** Rolled back at the first look at or after the canary's difference began. */
  rollbackAtFirstLook: boolean;
  completed: boolean;
  completionMinute: number | null;
  finalPercent: number;
  /** When the canary's difference began on this judge's path (null: never, or A/A). */
  onsetMinute: number | null;
  /** Canary traffic served while the difference was active, up to rollback, completion or the horizon. */
  exposedRequests: number;
  exposedErrors: number;
  /** Exposed canary requests slower than the baseline p99 bucket bound. */
  exposedSlow: number;
  looks: number;
  insufficientLooks: number;
  holdsNeedingSamples: number;
  holdsNamingPercent: number;
  /** Of those, holds whose percent does it within the policy's window. */
  holdsWithinWindow: number;
  /** Looks within the 1% and 5% stages' windows with a tail row, and how they came out (our judge only). */
  tailEarlyLooks: number;
  tailEarlyInsufficient: number;
  tailEarlyProven: number;
  /** Of those, looks where the tail row had already proven a regression (a detection, not a pass). */
  tailEarlyRegression: number;
}

interface WorldMinute {
  errorRate: number;
  latencyScale: number;
}

class World {
  private readonly worldCache = new Map<number, WorldMinute>();
  private readonly cohortCache = new Map<string, CohortMinute>();
  private readonly incidentStart = new Map<number, number>();

  constructor(
    private readonly scenario: Scenario,
    private readonly settings: SimSettings,
    private readonly replicate: number,
    private readonly withLatency: boolean,
  ) {}

  private minuteOf(t: number): WorldMinute {
    const hit = this.worldCache.get(t);
    if (hit) return hit;
    const s = this.scenario;
    let errorRate = s.baseErrorRate(t);
    let latencyScale = 1;
    if (s.incidents) {
      const hour = Math.floor(t / 60);
      let start = this.incidentStart.get(hour);
      if (start === undefined) {
        start = Math.floor(
          Rng.forKey([this.settings.seed, this.replicate, hour, STREAM_INCIDENT]).uniform() * 56,
        );
        this.incidentStart.set(hour, start);
      }
      const inHour = t - hour * 60;
      if (inHour >= start && inHour < start + 5) {
        errorRate *= 4;
        latencyScale = 1.3;
      }
    }
    if (s.overdispersionShape !== undefined) {
      const rng = Rng.forKey([this.settings.seed, this.replicate, t, STREAM_WORLD]);
      errorRate = rng.gamma(s.overdispersionShape, errorRate / s.overdispersionShape);
    }
    const w = { errorRate, latencyScale };
    this.worldCache.set(t, w);
    return w;
  }

  private draw(t: number, percent: number, stream: number, effect: CanaryEffect | null): CohortMinute {
    const world = this.minuteOf(t);
    const share = stream === STREAM_CANARY ? percent / 100 : 1 - percent / 100;
    const meanRequests = this.settings.rps * 60 * share;
    // The stream does not depend on the effect: a regressed canary and a healthy one draw from the
    // same uniforms, which keeps comparisons between scenarios tight.
    const rng = Rng.forKey([this.settings.seed, this.replicate, t, stream, Math.round(percent * 100)]);
    let latency: number[] | undefined;
    let requests: number;
    if (this.withLatency) {
      let shape: LatencyShape = worldLatency(this.scenario, world.latencyScale);
      if (effect?.latency) shape = effect.latency(shape);
      latency = drawLatencyCounts(rng, meanRequests, shape);
      requests = latency.reduce((a, b) => a + b, 0);
    } else {
      requests = rng.poisson(meanRequests);
    }
    const rate = Math.min(1, world.errorRate * (effect?.errorMultiplier ?? 1));
    let errors: number;
    const retryMean = this.scenario.retryMean;
    if (retryMean !== undefined) {
      // First failures at a rate that keeps the overall failure rate at `rate` once retries are added.
      const first = Math.min(requests, rng.poisson((requests * rate) / (1 + retryMean)));
      const retries = rng.geometricSum(first, retryMean);
      errors = first + retries;
      requests += retries;
    } else {
      errors = Math.min(requests, rng.poisson(requests * rate));
    }
    return { requests, errors, latency };
  }

  cohort(
    t: number,
    percent: number,
    cohort: "canary" | "control",
    effect: CanaryEffect | null,
  ): CohortMinute {
    const stream = cohort === "canary" ? STREAM_CANARY : STREAM_CONTROL;
    const key = `${t}|${percent}|${stream}|${cohort === "canary" ? (effect?.key ?? "") : ""}`;
    const hit = this.cohortCache.get(key);
    if (hit) return hit;
    const c = this.draw(t, percent, stream, cohort === "canary" ? effect : null);
    this.cohortCache.set(key, c);
    return c;
  }
}

interface Track {
  factory: JudgeFactory;
  judge: DeploymentJudge;
  step: number;
  stepStart: number;
  done: boolean;
  outcome: DeploymentOutcome;
}

function emptyOutcome(judge: string): DeploymentOutcome {
  return {
    judge,
    rolledBack: false,
    rollbackMinute: null,
    rollbackPercent: null,
    rollbackAtFirstLook: false,
    completed: false,
    completionMinute: null,
    finalPercent: LADDER[0]!.percent,
    onsetMinute: null,
    exposedRequests: 0,
    exposedErrors: 0,
    exposedSlow: 0,
    looks: 0,
    insufficientLooks: 0,
    holdsNeedingSamples: 0,
    holdsNamingPercent: 0,
    holdsWithinWindow: 0,
    tailEarlyLooks: 0,
    tailEarlyInsufficient: 0,
    tailEarlyProven: 0,
    tailEarlyRegression: 0,
  };
}

/** Runs one replicate of a scenario for every judge; returns one outcome per judge, in order. */
export function simulateReplicate(
  scenario: Scenario,
  settings: SimSettings,
  replicate: number,
  judges: readonly JudgeFactory[],
): DeploymentOutcome[] {
  const horizon = settings.horizonMinutes ?? HORIZON_MINUTES;
  const world = new World(scenario, settings, replicate, scenario.policy === "five");
  const setup: DeploymentSetup = {
    scenario,
    policy: scenario.policy,
    rps: settings.rps,
    lookEveryMinutes: settings.lookEveryMinutes,
    ladder: LADDER,
    plannedLooks: Math.ceil(NOMINAL_MINUTES / settings.lookEveryMinutes),
    seed: settings.seed * 1_000_003 + replicate,
  };
  const tracks: Track[] = judges.map((factory) => ({
    factory,
    judge: factory.create(setup),
    step: 0,
    stepStart: 0,
    done: false,
    outcome: emptyOutcome(factory.id),
  }));

  for (let t = 0; t < horizon; t++) {
    let active = 0;
    for (const tr of tracks) {
      if (tr.done) continue;
      active++;
      const percent = LADDER[tr.step]!.percent;
      const effect = scenario.effect(percent, t - tr.stepStart);
      const canary = world.cohort(t, percent, "canary", effect);
      const control = world.cohort(t, percent, "control", null);
      const data: MinuteData = { minute: t, percent, canary, control };
      tr.judge.addMinute(data);
      const o = tr.outcome;
      if (effect && o.onsetMinute === null) o.onsetMinute = t;
      if (o.onsetMinute !== null || scenario.aa) {
        o.exposedRequests += canary.requests;
        o.exposedErrors += canary.errors;
        if (canary.latency) o.exposedSlow += countAbove(canary.latency, SLOW_INDEX);
      }
      const lookAt = t + 1;
      if (lookAt % settings.lookEveryMinutes !== 0) continue;
      const r = tr.judge.look(lookAt);
      o.looks++;
      if (r.insufficient) o.insufficientLooks++;
      if (r.hold?.needsSamples) {
        o.holdsNeedingSamples++;
        if (r.hold.namesPercent) o.holdsNamingPercent++;
        if (r.hold.withinWindow) o.holdsWithinWindow++;
      }
      // The tail check covers each early stage's nominal window (docs/statistics.md: "3.6 expected per hour");
      // a judge that stays longer eventually gathers enough tail samples to test.
      const inWindow = lookAt - tr.stepStart <= (LADDER[tr.step]!.windowMinutes ?? 0);
      if (r.tail && percent <= 5 && inWindow) {
        o.tailEarlyLooks++;
        if (r.tail.status === "insufficient_data") o.tailEarlyInsufficient++;
        if (r.tail.proven) o.tailEarlyProven++;
        if (r.tail.status === "regression") o.tailEarlyRegression++;
      }
      if (r.verdict === "rollback") {
        o.rolledBack = true;
        o.rollbackMinute = lookAt;
        o.rollbackPercent = percent;
        o.finalPercent = 0;
        if (o.onsetMinute !== null) {
          const firstLook =
            Math.ceil((o.onsetMinute + 1) / settings.lookEveryMinutes) * settings.lookEveryMinutes;
          o.rollbackAtFirstLook = lookAt === firstLook;
        }
        tr.done = true;
      } else if (r.verdict === "promote") {
        tr.step++;
        tr.stepStart = lookAt;
        const rung = LADDER[tr.step]!;
        o.finalPercent = rung.percent;
        if (rung.windowMinutes === undefined) {
          o.completed = true;
          o.completionMinute = lookAt;
          tr.done = true;
        } else {
          tr.judge.stepChanged(tr.step, lookAt);
        }
      }
    }
    if (active === 0) break;
  }
  return tracks.map((tr) => tr.outcome);
}
