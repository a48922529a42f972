import { z } from "zod";
import { deploymentIdSchema } from "../core/ids.js";
import { activeDeploymentIds } from "../ledger/deployments.js";
import type { ProviderFactory } from "../metrics/index.js";
import { type OperationContext, resolveAt } from "../operations/context.js";
import { tickActionSchema } from "../operations/tick.js";
import { wallClock } from "./clock.js";
import { ledgerLook } from "./ledger-looks.js";
import { createScheduler } from "./scheduler.js";

const TICK_LOOKS_AT_ONCE = 16;

export const tickInput = z.strictObject({
  deployment_id: deploymentIdSchema.optional().describe("Only this deployment; omitted: every active one"),
  at: z.string().optional().describe("Manual clock only: ISO-8601 time to treat as now"),
});

export const tickOutput = z.object({
  actions: z.array(tickActionSchema).describe("What each deployment's look did, in id order"),
});

/**
 * Does whatever is due now, as one pass of the scheduler (cron, CI, the `tick` tool): every
 * active deployment (or the one named) is looked at, and the look itself decides whether a
 * decision is due; each pulls from its metric source first, then decides, then promotes or rolls
 * back as the policy allows. A failed look does not stop the others; the first failure is raised
 * once every deployment has had its look.
 */
export async function runTick(
  ctx: OperationContext,
  input: z.infer<typeof tickInput>,
  opts: { providers?: ProviderFactory } = {},
): Promise<z.infer<typeof tickOutput>> {
  // Check `at` once up front, so a bad one is refused even when nothing is active.
  if (input.at !== undefined) resolveAt(ctx, input.at, undefined);
  const failures: unknown[] = [];
  const scheduler = createScheduler({
    clock: wallClock,
    due: () =>
      (input.deployment_id ? [input.deployment_id] : activeDeploymentIds(ctx.ledger)).map((deploymentId) => ({
        deploymentId,
        dueAt: Number.NEGATIVE_INFINITY,
      })),
    look: ledgerLook(ctx, { at: () => input.at, ...opts }),
    // Pulls wait on the metric sources side by side; each decision is its own short write.
    lookConcurrency: TICK_LOOKS_AT_ONCE,
    onError: (_id, error) => failures.push(error),
  });
  const { actions } = await scheduler.pass();
  if (failures.length > 0) throw failures[0];
  return { actions };
}
