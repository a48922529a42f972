import { z } from "zod";
import { durationMs } from "../core/duration.js";
import { InvalidInputError } from "../core/errors.js";
import { type Policy, type PolicyInput, policySchema } from "../core/policy/schema.js";
import { type RecordedLevel, recordedLevels } from "../core/recorded-percents.js";
import type { Slice } from "../core/slice.js";
import { applyTransition, getDeployment } from "../ledger/deployments.js";
import type { OperationContext } from "../operations/context.js";
import { recordEvent } from "../operations/events.js";
import { recordMetrics } from "../operations/record-metrics.js";
import { startDeployment } from "../operations/start-deployment.js";
import { tickActionSchema } from "../operations/tick.js";
import { manualTime } from "./clock.js";
import { ledgerLook } from "./ledger-looks.js";
import { createScheduler } from "./scheduler.js";

export const replayTimelineEntrySchema = tickActionSchema.extend({ at: z.string() });

export const REPLAY_MODES = ["ladder", "recorded"] as const;
export type ReplayMode = (typeof REPLAY_MODES)[number];

export const replayResultSchema = z.object({
  deployment_id: z.string(),
  mode: z
    .enum(REPLAY_MODES)
    .describe(
      "ladder: the policy's ladder moved as its verdicts said; recorded: traffic followed the percents the recording shows",
    ),
  recorded_levels: z
    .array(z.object({ from: z.string(), percent: z.number(), rung: z.number().int().nullable() }))
    .optional()
    .describe("recorded mode: the percents read from the recording and the rung each matched"),
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
 * In recorded mode the ladder is the recording's: the policy's own when every level matches one of
 * its rungs in order, else a ladder made of the recorded percents (the note says so).
 */
function followedPolicy(
  policy: Policy,
  levels: RecordedLevel[],
): { policy: PolicyInput; steps: number[]; own: boolean } {
  const rungs = levels.map((l) => l.rung);
  if (rungs.every((r, i) => r !== undefined && (i === 0 || r > rungs[i - 1]!))) {
    return { policy, steps: rungs as number[], own: true };
  }
  for (let i = 1; i < levels.length; i++) {
    if (!(levels[i]!.percent > levels[i - 1]!.percent)) {
      throw new InvalidInputError(
        "--data",
        `the recording's canary share goes down (${levels[i - 1]!.percent}% then ${levels[i]!.percent}% at ${new Date(levels[i]!.from).toISOString()}); replay can follow a recording only while its percent rises. Replay it with the policy's ladder, or cut the data at that point`,
      );
    }
  }
  const window = (i: number) => policy.ladder[Math.min(i, policy.ladder.length - 2)]?.window ?? "30m";
  const ladder = levels.map((l, i) => ({ percent: l.percent, window: window(i) }));
  if (levels[levels.length - 1]!.percent < 100) ladder.push({ percent: 100 } as (typeof ladder)[number]);
  return { policy: { ...policy, ladder }, steps: levels.map((_, i) => i), own: false };
}

/** Moves the replayed deployment to the rung the recording was at from `at` on. */
function moveToRecordedStep(
  ctx: OperationContext,
  id: string,
  step: number,
  at: number,
  recorded: number,
): void {
  ctx.ledger.write(() => {
    const d = getDeployment(ctx.ledger, id);
    if (d.state !== "canary" && d.state !== "paused") return;
    const last = step === d.policy.ladder.length - 1;
    const percent = d.policy.ladder[step]!.percent;
    const state = last ? "completed" : d.state;
    const moved = applyTransition(
      ctx.ledger,
      { state: d.state, step: d.step },
      {
        deploymentId: d.id,
        kind: last ? "complete" : "promote",
        fromStep: d.step,
        toStep: step,
        percent,
        state,
        actor: ctx.actor,
        reason: `the recording moved to ${recorded}%`,
        at,
      },
    );
    if (moved)
      recordEvent(ctx, d, {
        action: last ? "complete" : "promote",
        at,
        state,
        step,
        percent,
        details: { from_step: d.step, to_step: step, recorded_percent: recorded, replay: "recorded" },
      });
  });
}

/**
 * Runs a ladder on recorded slices with a virtual clock: slices are fed as time passes and the
 * deployment is ticked at every due look. `ladder` mode drives the policy's ladder (auto-promote
 * and auto-rollback act), judging the recorded traffic against the replayed percent; `recorded`
 * mode follows the percents the recording was made at (read from the canary's share of its
 * traffic), so a recording made at fixed percents is judged against the percents it really had;
 * verdicts still roll back, never promote. `ctx` must run the manual clock on a ledger of its own.
 */
export async function replayDeployment(
  ctx: OperationContext,
  input: {
    deploymentId: string;
    policy: Policy | Record<string, unknown>;
    slices: Slice[];
    author?: string;
    start?: number;
    mode?: ReplayMode;
  },
): Promise<ReplayResult> {
  if (ctx.clock.mode !== "manual") throw new Error("replay runs on the manual clock");
  const mode = input.mode ?? "ladder";
  const slices = [...input.slices].sort((a, b) => Date.parse(a.t) - Date.parse(b.t));
  const first = slices[0];
  if (!first) throw new Error("no slices to replay");
  const start = input.start ?? Date.parse(first.t);
  let policy: PolicyInput = input.policy as PolicyInput;
  let levels: RecordedLevel[] = [];
  let steps: number[] = [];
  let ownLadder = true;
  if (mode === "recorded") {
    const parsed = policySchema.parse(input.policy);
    levels = recordedLevels(parsed, slices);
    if (levels.length === 0) {
      throw new InvalidInputError(
        "--data",
        "the recording shows no canary and control traffic to read its percents from (units, or the series the split check counts)",
      );
    }
    ({ policy, steps, own: ownLadder } = followedPolicy(parsed, levels));
  }
  const started = startDeployment(ctx, {
    deployment_id: input.deploymentId,
    policy: policy as Record<string, unknown>,
    author: input.author,
    at: new Date(start).toISOString(),
  });
  const d0 = getDeployment(ctx.ledger, started.deployment_id);
  const width = durationMs(d0.policy.slice);
  const checkEvery = durationMs(d0.policy.check_every);
  const dataEnd = Date.parse(slices[slices.length - 1]!.t) + width;
  const timeline: z.infer<typeof replayTimelineEntrySchema>[] = [];
  let next = 0;
  let nextLevel = 0;
  let looks = 0;
  // The scheduler's loop in virtual time: each look first feeds the slices complete by then (and
  // in recorded mode moves to the rung the recording was at), then ticks. Looks come no closer
  // than one slice, and in recorded mode never step over a recorded move.
  const clock = manualTime(start);
  let lookAt = start;
  const feed = (now: number) => {
    const batch: Slice[] = [];
    while (next < slices.length && Date.parse(slices[next]!.t) + width <= now) batch.push(slices[next++]!);
    for (let i = 0; i < batch.length; i += 5000) {
      recordMetrics(ctx, {
        deployment_id: d0.id,
        slices: batch.slice(i, i + 5000).map((s) => ({ ...s, deployment_id: d0.id })),
        at: new Date(now).toISOString(),
      });
    }
    while (mode === "recorded" && nextLevel < levels.length && levels[nextLevel]!.from <= now) {
      const level = levels[nextLevel]!;
      if (steps[nextLevel]! > 0)
        moveToRecordedStep(ctx, d0.id, steps[nextLevel]!, Math.max(start, level.from), level.percent);
      nextLevel++;
    }
    return [];
  };
  const stop = new AbortController();
  let failure: unknown;
  const tick = ledgerLook(ctx, { beforeLook: async (_id, now) => feed(now), promote: mode === "ladder" });
  const scheduler = createScheduler({
    clock,
    due: () => (lookAt <= dataEnd ? [{ deploymentId: d0.id, dueAt: lookAt }] : []),
    look: async (id, now) => {
      const action = await tick(id, now);
      looks++;
      if (action.action !== "none") timeline.push({ ...action, at: new Date(now).toISOString() });
      const due = action.next_due_at ? Date.parse(action.next_due_at) : now + checkEvery;
      lookAt = Math.max(now + width, due);
      if (mode === "recorded" && nextLevel < levels.length)
        lookAt = Math.min(lookAt, Math.max(levels[nextLevel]!.from, start + width));
      return action;
    },
    wakeAt: () => lookAt,
    onError: (_id, error) => {
      failure ??= error;
      stop.abort();
    },
  });
  let ended = false;
  await scheduler.run(stop.signal, (pass) => {
    ended = pass.actions.some((a) => a.state !== "canary" && a.state !== "paused");
    return ended || lookAt > dataEnd;
  });
  if (failure !== undefined) throw failure;
  const now = ended ? clock.now() : lookAt;
  const d = getDeployment(ctx.ledger, d0.id);
  const outcome =
    d.state === "canary"
      ? "the recorded data ended before the ladder did: the deployment was still running"
      : `the deployment ${d.state === "completed" ? "completed" : "was rolled back"} within the recorded data`;
  const result: ReplayResult = {
    deployment_id: d.id,
    mode,
    final_state: d.state,
    final_step: d.step,
    final_percent: d.percent,
    started_at: new Date(start).toISOString(),
    ended_at: new Date(Math.min(now, dataEnd)).toISOString(),
    data_until: new Date(dataEnd).toISOString(),
    looks,
    timeline,
    note:
      mode === "ladder"
        ? `${outcome} (mode ladder: the policy's ladder moved on its verdicts; the recorded traffic was judged against the replayed percent)`
        : `${outcome} (mode recorded: traffic followed the recording's percents, ${levels.map((l) => `${l.percent}%`).join(" → ")}${ownLadder ? ", each a rung of the policy" : ", which are not the policy's rungs: the replay used a ladder of the recorded percents"}; verdicts could roll back, never promote)`,
  };
  if (mode === "recorded") {
    result.recorded_levels = levels.map((l) => ({
      from: new Date(l.from).toISOString(),
      percent: l.percent,
      rung: l.rung ?? null,
    }));
  }
  return result;
}
