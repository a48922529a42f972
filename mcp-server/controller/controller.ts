import { hostname } from "node:os";
import { setImmediate as yieldToEventLoop } from "node:timers/promises";
import type { ProviderError } from "../core/decide/index.js";
import { whenLedgerFree } from "../ledger/busy.js";
import { claimLease, type Lease, releaseLeaseOf } from "../ledger/leases.js";
import { activeSchedule } from "../ledger/schedule.js";
import type { OperationContext } from "../operations/context.js";
import { pullBefore } from "../operations/pull-metrics.js";
import { type TickAction, tickDeployment } from "../operations/tick.js";
import { dueAt } from "./due.js";

// The controller: for every active deployment, at its due time, pull its metrics, decide and act
// as the policy says, then deliver notifications. Several controllers may share one ledger; a
// lease in the ledger makes exactly one of them act, and a standby takes over once the leader's
// lease has expired. Steps are compare-and-set in the ledger, so even a leader that stalled past
// its lease cannot move a deployment twice.

export const CONTROLLER_LEASE = "controller";

/** Time as the controller sees it: the wall clock in production, a manual clock in tests. */
export interface ControllerClock {
  now(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const wallClock: ControllerClock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      signal?.addEventListener("abort", () => {
        clearTimeout(timer);
        resolve();
      });
    }),
};

export interface ControllerOptions {
  ctx: OperationContext;
  clock?: ControllerClock;
  /** Who this controller is in the lease (unique per process). */
  holder?: string;
  leaseMs?: number;
  /** Longest sleep between passes, so deployments started elsewhere are seen soon. */
  maxSleepMs?: number;
  /**
   * Pulls a deployment's metrics before a look (default: from its policy's source, as every look
   * does) and returns the source errors the look holds on.
   */
  beforeLook?: (deploymentId: string, now: number) => Promise<readonly ProviderError[] | undefined>;
  /** Delivers queued notifications after a pass. */
  deliver?: (now: number) => Promise<void>;
  onAction?: (action: TickAction) => void;
  onError?: (deploymentId: string | undefined, error: unknown) => void;
}

export interface ControllerPass {
  leader: boolean;
  lease: Lease;
  actions: TickAction[];
  nextWakeAt: number;
}

export interface ControllerStats {
  passes: number;
  looks: number;
  errors: number;
  lastPassMs: number;
  /** How late the latest look ran after it was due, in ms. */
  lastOverdueMs: number;
  leader: boolean;
  lease: Lease | undefined;
}

export interface Controller {
  runOnce(): Promise<ControllerPass>;
  /** Runs passes until the signal aborts, then gives the lease up. */
  run(signal: AbortSignal): Promise<void>;
  stats(): ControllerStats;
  readonly holder: string;
}

export function createController(opts: ControllerOptions): Controller {
  const { ctx } = opts;
  const clock = opts.clock ?? wallClock;
  const holder = opts.holder ?? `${hostname()}:${process.pid}:${Math.random().toString(36).slice(2, 8)}`;
  const leaseMs = opts.leaseMs ?? 15_000;
  const maxSleepMs = opts.maxSleepMs ?? 5_000;
  const stats: ControllerStats = {
    passes: 0,
    looks: 0,
    errors: 0,
    lastPassMs: 0,
    lastOverdueMs: 0,
    leader: false,
    lease: undefined,
  };

  const claim = async (now: number) => {
    const lease = await whenLedgerFree(() => claimLease(ctx.ledger, CONTROLLER_LEASE, holder, now, leaseMs));
    stats.lease = lease;
    stats.leader = lease.holder === holder;
    return lease;
  };

  async function runOnce(): Promise<ControllerPass> {
    const started = clock.now();
    let lease = await claim(started);
    const actions: TickAction[] = [];
    // Renew well before expiry: a third of the lease, as a standby waits for all of it.
    let renewAt = started + leaseMs / 3;
    let nextWakeAt = Math.min(renewAt, started + maxSleepMs);
    if (lease.holder === holder) {
      const schedule = ctx.ledger.read(() => activeSchedule(ctx.ledger));
      for (const entry of schedule) {
        const id = entry.deployment.id;
        const now = clock.now();
        if (now >= renewAt) {
          lease = await claim(now);
          renewAt = now + leaseMs / 3;
          if (lease.holder !== holder) break;
        }
        const due = dueAt(entry, now);
        if (due > now) {
          nextWakeAt = Math.min(nextWakeAt, due);
          continue;
        }
        try {
          // On the manual clock (simulations, tests) the controller's time is passed as `at`.
          const at = ctx.clock.mode === "manual" ? new Date(now).toISOString() : undefined;
          const sourceErrors =
            (await (
              opts.beforeLook ??
              ((deploymentId: string) => pullBefore(ctx, { deployment_id: deploymentId, at }))
            )(id, now)) ?? [];
          const action = await whenLedgerFree(() => tickDeployment(ctx, id, at, { sourceErrors }));
          stats.looks++;
          stats.lastOverdueMs = Math.max(0, clock.now() - due);
          actions.push(action);
          opts.onAction?.(action);
          if (action.next_due_at) nextWakeAt = Math.min(nextWakeAt, Date.parse(action.next_due_at));
        } catch (error) {
          stats.errors++;
          opts.onError?.(id, error);
        }
        // Let HTTP requests in between looks.
        await yieldToEventLoop();
      }
    }
    try {
      await opts.deliver?.(clock.now());
    } catch (error) {
      opts.onError?.(undefined, error);
    }
    stats.passes++;
    stats.lastPassMs = clock.now() - started;
    return { leader: lease.holder === holder, lease, actions, nextWakeAt };
  }

  async function run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      let wakeAt = clock.now() + Math.min(1_000, maxSleepMs);
      try {
        wakeAt = (await runOnce()).nextWakeAt;
      } catch (error) {
        stats.errors++;
        opts.onError?.(undefined, error);
      }
      if (signal.aborted) break;
      await clock.sleep(Math.max(0, wakeAt - clock.now()), signal);
    }
    try {
      releaseLeaseOf(ctx.ledger, CONTROLLER_LEASE, holder);
    } catch {
      // Busy at shutdown: the lease simply expires.
    }
  }

  return { runOnce, run, stats: () => ({ ...stats }), holder };
}
