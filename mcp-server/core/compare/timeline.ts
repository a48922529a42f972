import type { StepStart } from "../deployment.js";
import { durationMs } from "../duration.js";
import type { Policy } from "../policy/schema.js";

// Which step a slice belongs to, and whether it is judged. A slice belongs to the step in force
// when it starts; the first `warmup` of every step (routers picking up the new percent, caches
// warming) is excluded from every test and from the split check. A slice that straddles the start
// of the next step carries a mixed share: it stays in the count tests (they use the actual trials
// of each cohort, so a mixed share does no harm) but not in the split check.

export interface StepSpan {
  /** Position in the step history. */
  ordinal: number;
  /** Index into the policy's ladder. */
  step: number;
  percent: number;
  startedAt: number;
  /** startedAt + warmup: the judged window begins here. */
  judgedFrom: number;
  /** The next step's start, or +Infinity. */
  endsAt: number;
}

export function warmupMs(policy: Policy): number {
  return policy.warmup ? durationMs(policy.warmup) : 0;
}

export function sliceMs(policy: Policy): number {
  return durationMs(policy.slice);
}

/** Spans from the step history (sorted by start; ties keep their order). */
export function stepSpans(steps: readonly StepStart[], warmup: number): StepSpan[] {
  const sorted = steps.map((s, i) => ({ s, i })).sort((a, b) => a.s.startedAt - b.s.startedAt || a.i - b.i);
  return sorted.map(({ s }, ordinal) => ({
    ordinal,
    step: s.step,
    percent: s.percent,
    startedAt: s.startedAt,
    judgedFrom: s.startedAt + warmup,
    endsAt: sorted[ordinal + 1]?.s.startedAt ?? Number.POSITIVE_INFINITY,
  }));
}

/** The span in force at time t, or undefined before the first step. */
export function spanAt(spans: readonly StepSpan[], t: number): StepSpan | undefined {
  let found: StepSpan | undefined;
  for (const span of spans) {
    if (span.startedAt <= t) found = span;
    else break;
  }
  return found;
}

/**
 * The first check time after t, as `tick` schedules them: every `check_every` from the step's
 * start, the end of the step's window, then every `check_every` from the window's end (decide's
 * next check after a look at time a is a + check_every, or the window's end when sooner). A check at
 * a step's end still belongs to that step. +Infinity when none is left. (A warm-up longer than
 * `check_every` adds a look at its end in `decide`; the judge does not take it: no judged data
 * change there.)
 */
export function nextCheckAfter(spans: readonly StepSpan[], t: number, policy: Policy): number {
  const every = durationMs(policy.check_every);
  for (const span of spans) {
    if (span.endsAt < t) continue;
    const window = policy.ladder[span.step]?.window;
    const windowEnd = window === undefined ? Number.POSITIVE_INFINITY : span.startedAt + durationMs(window);
    const anchor = t >= windowEnd ? windowEnd : span.startedAt;
    const from = Math.max(t, span.startedAt);
    let next = anchor + (Math.floor((from - anchor) / every) + 1) * every;
    if (windowEnd > t && windowEnd < next) next = windowEnd;
    if (next <= span.endsAt) return next;
  }
  return Number.POSITIVE_INFINITY;
}

/** How a slice starting at t takes part in the judgment. */
export interface SliceRole {
  span: StepSpan;
  /** After the warm-up: the count tests see it. */
  judged: boolean;
  /** Judged, and wholly inside its step: the split check sees it. */
  splitChecked: boolean;
  /** Expected canary share during the slice. */
  expectedShare: number;
}

export function sliceRole(spans: readonly StepSpan[], t: number, width: number): SliceRole | undefined {
  const span = spanAt(spans, t);
  if (!span) return undefined;
  const judged = t >= span.judgedFrom;
  return {
    span,
    judged,
    splitChecked: judged && t + width <= span.endsAt,
    expectedShare: span.percent / 100,
  };
}
