import { hostname } from "node:os";
import { whenLedgerFree } from "../ledger/busy.js";
import { claimLease, type Lease, releaseLeaseOf } from "../ledger/leases.js";
import type { OperationContext } from "../operations/context.js";
import type { TickAction } from "../operations/tick.js";
import { type SchedulerClock, wallClock } from "./clock.js";
import { type LedgerLookOptions, ledgerDue, ledgerLook } from "./ledger-looks.js";
import { createScheduler, type SchedulerPass, type SchedulerStats } from "./scheduler.js";

// The controller (`canary serve`): the scheduler over every active deployment of the ledger,
// acting only while it holds the ledger's lease. Several controllers may share one ledger; the
// lease makes exactly one of them act, and a standby takes over once the leader's lease has
// expired. Steps are compare-and-set in the ledger, so even a leader that stalled past its lease
// cannot move a deployment twice.

export const CONTROLLER_LEASE = "controller";

export interface ControllerOptions {
  ctx: OperationContext;
  clock?: SchedulerClock;
  /** Who this controller is in the lease (unique per process). */
  holder?: string;
  leaseMs?: number;
  /** Longest sleep between passes, so deployments started elsewhere are seen soon. */
  maxSleepMs?: number;
  beforeLook?: LedgerLookOptions["beforeLook"];
  /** Delivers queued notifications after a pass. */
  deliver?: (now: number) => Promise<void>;
  onAction?: (action: TickAction) => void;
  onError?: (deploymentId: string | undefined, error: unknown) => void;
}

export interface ControllerPass extends SchedulerPass {
  lease: Lease;
}

export interface ControllerStats extends SchedulerStats {
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
  let lease: Lease | undefined;
  const scheduler = createScheduler({
    clock,
    due: ledgerDue(ctx),
    look: ledgerLook(ctx, { beforeLook: opts.beforeLook, waitForLedger: true }),
    lease: {
      durationMs: leaseMs,
      claim: async (now) => {
        lease = await whenLedgerFree(() => claimLease(ctx.ledger, CONTROLLER_LEASE, holder, now, leaseMs));
        return lease.holder === holder;
      },
      release: () => releaseLeaseOf(ctx.ledger, CONTROLLER_LEASE, holder),
    },
    ...(opts.deliver ? { deliver: opts.deliver } : {}),
    ...(opts.maxSleepMs !== undefined ? { maxSleepMs: opts.maxSleepMs } : {}),
    ...(opts.onAction ? { onAction: opts.onAction } : {}),
    ...(opts.onError ? { onError: opts.onError } : {}),
    yieldBetweenLooks: true,
  });
  return {
    runOnce: async () => {
      const pass = await scheduler.pass();
      return { ...pass, lease: lease! };
    },
    run: (signal) => scheduler.run(signal),
    stats: () => ({ ...scheduler.stats(), lease }),
    holder,
  };
}
