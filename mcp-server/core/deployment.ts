import { z } from "zod";
import { orNull } from "./nullable.js";
import type { Policy } from "./policy/schema.js";
import type { Cohort, Histogram, Moments } from "./slice.js";

export const DEPLOYMENT_STATES = ["canary", "paused", "completed", "rolled_back"] as const;
export const deploymentStateSchema = z.enum(DEPLOYMENT_STATES);
export type DeploymentState = z.infer<typeof deploymentStateSchema>;

/** Who and where a deployment is: the fields its status and its history both open with. */
export const deploymentIdentitySchema = z.object({
  deployment_id: z.string(),
  service: z.string(),
  version: orNull(z.string()),
  author: orNull(z.string()),
  state: deploymentStateSchema,
  step: z.number().int(),
  percent: z.number(),
  ladder: z.array(z.object({ percent: z.number(), window: orNull(z.string()) })),
});

export type DeploymentIdentity = z.infer<typeof deploymentIdentitySchema>;

/** When each step of the ladder began; the judge needs it for expected shares, warm-ups and per-step tests. */
export interface StepStart {
  step: number;
  percent: number;
  /** ms since epoch */
  startedAt: number;
}

/** What the judge knows about a deployment: pure data, read from the ledger by the caller. */
export interface JudgeContext {
  deploymentId: string;
  policy: Policy;
  /** Step history, oldest first; the last entry is the current step. */
  steps: StepStart[];
  /** The deployment's state at `at`. */
  state: DeploymentState;
  /** "Now" for this judgment (ms since epoch); slices starting at or after it are ignored. */
  at: number;
  /** When the deployment ended (rollback or completion), if it has; the judge looks no further. */
  endedAt?: number;
}

/** A slice as stored: time in ms, dims resolved to a key ("" for the whole cohort). */
export interface StoredSlice {
  t: number;
  cohort: Cohort;
  dimsKey: string;
  dims?: Record<string, string>;
  counters: Record<string, number>;
  histograms: Record<string, Histogram>;
  moments: Record<string, Moments>;
  units?: number;
}

export type { Policy };

/** One step transition as reports show it: start, promote, complete, rollback, pause or resume. */
export const transitionEventSchema = z.object({
  kind: z.string(),
  from_step: orNull(z.number()),
  to_step: z.number(),
  percent: z.number(),
  actor: z.string(),
  reason: orNull(z.string()),
  override: z.boolean(),
  at: z.string(),
});
export type TransitionEvent = z.infer<typeof transitionEventSchema>;
