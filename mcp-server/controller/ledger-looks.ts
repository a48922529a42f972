import type { ProviderError } from "../core/decide/index.js";
import { whenLedgerFree } from "../ledger/busy.js";
import { activeSchedule } from "../ledger/schedule.js";
import type { ProviderFactory } from "../metrics/index.js";
import type { OperationContext } from "../operations/context.js";
import { pullBefore } from "../operations/pull-metrics.js";
import { type TickAction, tickDeployment } from "../operations/tick.js";
import { dueAt } from "./due.js";
import type { DueLook } from "./scheduler.js";

// The scheduler's parts for deployments in a ledger: what is due (from each deployment's stored
// timing) and what a look is (pull from the policy's source, then tick: decide, promote or roll
// back as the policy allows).

/** Every active deployment of the ledger (or just `only`), due as its stored timing says. */
export function ledgerDue(ctx: OperationContext, only?: string): (now: number) => DueLook[] {
  return (now) =>
    ctx.ledger
      .read(() => activeSchedule(ctx.ledger, only))
      .map((entry) => ({ deploymentId: entry.deployment.id, dueAt: dueAt(entry, now) }));
}

export interface LedgerLookOptions {
  /**
   * Before the look: fetches the deployment's metrics and returns the source errors the look
   * holds on. Default: a pull from its policy's source (nothing without one).
   */
  beforeLook?: (deploymentId: string, now: number) => Promise<readonly ProviderError[] | undefined>;
  /**
   * The `at` the look passes on. Default: the scheduler's time on a manual-clock ledger (virtual
   * time), none on the real clock.
   */
  at?: (now: number) => string | undefined;
  /** False: verdicts never promote (a replay that follows a recording's percents). */
  promote?: boolean;
  /** The metric clients the default pull uses (benchmarks count their requests). */
  providers?: ProviderFactory;
  /** Waits asynchronously while another process holds the write lock (servers). */
  waitForLedger?: boolean;
}

export function ledgerLook(
  ctx: OperationContext,
  opts: LedgerLookOptions = {},
): (deploymentId: string, now: number) => Promise<TickAction> {
  const atOf =
    opts.at ?? ((now: number) => (ctx.clock.mode === "manual" ? new Date(now).toISOString() : undefined));
  return async (deploymentId, now) => {
    const at = atOf(now);
    const sourceErrors =
      (await (opts.beforeLook
        ? opts.beforeLook(deploymentId, now)
        : pullBefore(ctx, { deployment_id: deploymentId, at }, opts.providers))) ?? [];
    const tick = () => tickDeployment(ctx, deploymentId, at, { sourceErrors, promote: opts.promote });
    return opts.waitForLedger ? whenLedgerFree(tick) : tick();
  };
}
