import type { JudgeContext } from "../deployment.js";
import { durationMs } from "../duration.js";
import type { Report } from "../report.js";

/** The current step's clock: when it started, when its warm-up and window end (ms since epoch). */
export interface StepClock {
  step: number;
  percent: number;
  startedAt: number;
  /** Undefined at the last rung, which has no window. */
  windowEnd: number | undefined;
  windowMs: number | undefined;
  /** Equal to startedAt when the policy has no warm-up. */
  warmupEnd: number;
  isLastRung: boolean;
}

export function stepClock(ctx: JudgeContext, report: Report): StepClock {
  const { policy } = ctx;
  const current = ctx.steps[ctx.steps.length - 1];
  const step = current?.step ?? report.step;
  // The context's step history is the ledger's record; the report's start is a fallback for callers
  // that judge a report without the history.
  const startedAt = current?.startedAt ?? Date.parse(report.step_started_at);
  const rung = policy.ladder[step];
  const windowMs = rung?.window !== undefined ? durationMs(rung.window) : undefined;
  const warmupMs = policy.warmup !== undefined ? durationMs(policy.warmup) : 0;
  return {
    step,
    percent: current?.percent ?? rung?.percent ?? report.percent,
    startedAt,
    windowEnd: windowMs !== undefined ? startedAt + windowMs : undefined,
    windowMs,
    warmupEnd: startedAt + warmupMs,
    isLastRung: step >= policy.ladder.length - 1,
  };
}

/**
 * When to look again. A promote verdict goes stale at this time, so it is never later than the
 * moment something known changes: the end of the warm-up or of the window, when those are ahead.
 */
export function nextCheckAt(ctx: JudgeContext, clock: StepClock): number {
  const regular = ctx.at + durationMs(ctx.policy.check_every);
  let next = regular;
  for (const boundary of [clock.warmupEnd, clock.windowEnd]) {
    if (boundary !== undefined && boundary > ctx.at && boundary < next) next = boundary;
  }
  return next;
}

/**
 * How long the step has held past its window: from the later of the window's end and the start of
 * the current run of holds (a step whose promote verdicts were not acted on starts holding later).
 */
export function heldPastWindowMs(
  ctx: JudgeContext,
  clock: StepClock,
  holdingSince: number | undefined,
): number {
  if (clock.windowEnd === undefined) return 0;
  const from = Math.max(clock.windowEnd, holdingSince ?? clock.windowEnd);
  return Math.max(0, ctx.at - from);
}
