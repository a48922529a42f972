import { z } from "zod";
import { durationMs } from "../core/duration.js";
import type { Policy } from "../core/policy/schema.js";
import type { Slice } from "../core/slice.js";
import { getDeployment } from "../ledger/deployments.js";
import type { OperationContext } from "./context.js";
import { recordMetrics } from "./record-metrics.js";
import { startDeployment } from "./start-deployment.js";
import { tickActionSchema, tickDeployment } from "./tick.js";

export const replayTimelineEntrySchema = tickActionSchema.extend({ at: z.string() });

export const replayResultSchema = z.object({
  deployment_id: z.string(),
  final_state: z.string(),
  final_step: z.number().int(),
  final_percent: z.number(),
  started_at: z.string(),
  ended_at: z.string(),
  data_until: z.string(),
  looks: z.number().int(),
  timeline: z.array(replayTimelineEntrySchema).describe("Every look that decided or acted"),
  note: z.string(),
});
export type ReplayResult = z.infer<typeof replayResultSchema>;

/**
 * Runs a whole ladder on recorded slices with a virtual clock: slices are fed as time passes,
 * the deployment is ticked at every due look, and the policy's auto-promote / auto-rollback act.
 * The recorded traffic does not follow the replayed ladder (it was recorded at whatever percent
 * was live then); the split check judges it against the replayed percent.
 * `ctx` must run the manual clock on a ledger of its own.
 */
export function replayDeployment(
  ctx: OperationContext,
  input: {
    deploymentId: string;
    policy: Policy | Record<string, unknown>;
    slices: Slice[];
    author?: string;
    start?: number;
  },
): ReplayResult {
  if (ctx.clock.mode !== "manual") throw new Error("replay runs on the manual clock");
  const slices = [...input.slices].sort((a, b) => Date.parse(a.t) - Date.parse(b.t));
  const first = slices[0];
  if (!first) throw new Error("no slices to replay");
  const start = input.start ?? Date.parse(first.t);
  const started = startDeployment(ctx, {
    deployment_id: input.deploymentId,
    policy: input.policy as Record<string, unknown>,
    author: input.author,
    at: new Date(start).toISOString(),
  });
  const d0 = getDeployment(ctx.ledger, started.deployment_id);
  const width = durationMs(d0.policy.slice);
  const checkEvery = durationMs(d0.policy.check_every);
  const dataEnd = Date.parse(slices[slices.length - 1]!.t) + width;
  const timeline: z.infer<typeof replayTimelineEntrySchema>[] = [];
  let next = 0;
  let now = start;
  let looks = 0;
  let state: string = d0.state;
  while (now <= dataEnd) {
    const batch: Slice[] = [];
    while (next < slices.length && Date.parse(slices[next]!.t) + width <= now) batch.push(slices[next++]!);
    for (let i = 0; i < batch.length; i += 5000) {
      recordMetrics(ctx, {
        deployment_id: d0.id,
        slices: batch.slice(i, i + 5000).map((s) => ({ ...s, deployment_id: d0.id })),
        at: new Date(now).toISOString(),
      });
    }
    const action = tickDeployment(ctx, d0.id, new Date(now).toISOString());
    looks++;
    if (action.action !== "none") timeline.push({ ...action, at: new Date(now).toISOString() });
    state = action.state;
    if (state !== "canary") break;
    const due = action.next_due_at ? Date.parse(action.next_due_at) : now + checkEvery;
    now = Math.max(now + width, due);
  }
  const d = getDeployment(ctx.ledger, d0.id);
  return {
    deployment_id: d.id,
    final_state: d.state,
    final_step: d.step,
    final_percent: d.percent,
    started_at: new Date(start).toISOString(),
    ended_at: new Date(Math.min(now, dataEnd)).toISOString(),
    data_until: new Date(dataEnd).toISOString(),
    looks,
    timeline,
    note:
      d.state === "canary"
        ? "the recorded data ended before the ladder did: the deployment was still running"
        : `the deployment ${d.state === "completed" ? "completed" : "was rolled back"} within the recorded data`,
  };
}
