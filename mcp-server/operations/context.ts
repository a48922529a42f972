import { quote } from "../core/clip.js";
import type { CohortAssigner } from "../core/cohort/index.js";
import { InvalidInputError, RefusedError } from "../core/errors.js";
import type { Ledger } from "../ledger/open.js";
import type { JudgeStates } from "./judge-states.js";

/** "Now": the wall clock, or a manual clock that the caller drives with `at` (simulations, replays, tests). */
export interface Clock {
  readonly mode: "real" | "manual";
  now(): number;
}

export const realClock: Clock = { mode: "real", now: () => Date.now() };
export const manualClock: Clock = {
  mode: "manual",
  now: () => {
    throw new Error("the manual clock has no now(): callers pass `at`");
  },
};

/**
 * Everything an operation needs from outside: the ledger (the one writer of state), the clock,
 * who is calling (from the environment or the transport, never from a tool argument), and the
 * few I/O capabilities core must not reach for itself.
 */
export interface OperationContext {
  ledger: Ledger;
  clock: Clock;
  actor: string;
  /** Signs audit entries when set (CANARY_AUDIT_HMAC_KEY). */
  auditHmacKey?: string;
  assigner: CohortAssigner;
  /** Reads a policy file named by a tool argument or a CLI flag. */
  readPolicyFile: (path: string) => string;
  /** Judges kept between looks by a long-running process (serve, watch); one-shot commands build each afresh. */
  judgeStates?: JudgeStates;
}

/**
 * Resolves "now" for a call. With the real clock `at` is refused; with the manual clock an omitted
 * `at` means the latest time the deployment has seen.
 */
export function resolveAt(
  ctx: OperationContext,
  at: string | undefined,
  latestSeen: number | undefined,
): number {
  if (ctx.clock.mode === "real") {
    if (at !== undefined) {
      throw new InvalidInputError(
        "at",
        "`at` is only accepted with the manual clock (start the server with --clock manual or CANARY_CLOCK=manual); omit it to use the current time",
      );
    }
    return ctx.clock.now();
  }
  if (at === undefined) {
    if (latestSeen === undefined)
      throw new InvalidInputError(
        "at",
        "with the manual clock the first call for a deployment needs `at` (an ISO-8601 time)",
      );
    return latestSeen;
  }
  const ms = Date.parse(at);
  if (!/^\d{4}-\d{2}-\d{2}T/.test(at) || Number.isNaN(ms)) {
    throw new InvalidInputError(
      "at",
      `expected an ISO-8601 time such as "2026-05-26T10:30:00Z", got ${quote(at)}`,
    );
  }
  return ms;
}

/** State-changing calls never go backwards in time. */
export function refuseGoingBack(at: number, lastEventAt: number): void {
  if (at < lastEventAt) {
    throw new RefusedError(
      "time_order",
      `at ${new Date(at).toISOString()} is before the deployment's last event (${new Date(lastEventAt).toISOString()}); state-changing calls never go backwards in time`,
    );
  }
}
