import { createJudge, type Judge } from "../core/compare/index.js";
import type { JudgeContext, StepStart } from "../core/deployment.js";
import { BusyError, IntegrityError } from "../core/errors.js";
import type { Report } from "../core/report.js";
import type { DeploymentRecord } from "../ledger/deployments.js";
import { loadSlices, type SliceWrites, sliceWritesSince } from "../ledger/slices.js";
import type { OperationContext } from "./context.js";

// A long-running process (serve, its controller, watch) keeps each deployment's judge between
// looks and folds only the slices stored since the last one. The judge is a fold over time-ordered
// slices, so a kept judge gives the report a fresh one would give from every stored slice, as long
// as nothing it has folded changed: the ledger's slice_writes log says when a write reached back
// behind it (a retry, a late pod, a re-sent slice), and then the judge is built again from the
// ledger, as after a restart.

interface JudgeState {
  judge: Judge;
  /** The live context the judge reads: steps and state are updated before each report. */
  context: Omit<JudgeContext, "at">;
  policySha256: string;
  createdAt: number;
  /** Every stored slice that starts before this time has been given to the judge. */
  fedBefore: number;
  /** The slice_writes revision the judge has seen. */
  revision: number;
  lastAt: number;
}

export interface JudgeStateStats {
  kept: number;
  /** Reports from a kept judge (only new slices folded). */
  reused: number;
  /** Judges built from every stored slice (first look, after a restart or a write behind). */
  rebuilt: number;
}

export class JudgeStates {
  private readonly states = new Map<string, JudgeState>();
  private readonly counts = { reused: 0, rebuilt: 0 };

  /** Most deployments kept at once; beyond it the least recently used is let go. */
  constructor(private readonly capacity = 10_000) {}

  /** The report at `at` with slices complete before `dataUntil`, from a kept judge when it can be. */
  report(ctx: OperationContext, d: DeploymentRecord, judgeContext: JudgeContext, dataUntil: number): Report {
    const kept = this.states.get(d.id);
    const revision = sliceWritesSince(ctx.ledger, d.id, kept?.revision ?? -1);
    if (kept && this.canReuse(kept, d, judgeContext, dataUntil, revision)) {
      try {
        const report = this.advance(ctx, kept, judgeContext, dataUntil, revision.revision);
        this.counts.reused++;
        return report;
      } catch (error) {
        // A busy or damaged ledger is the caller's to hear about; anything else is the judge
        // refusing a step history that changed behind its folded slices: build it again below.
        if (error instanceof BusyError || error instanceof IntegrityError) throw error;
      }
    }
    this.states.delete(d.id);
    const { at: _at, ...context } = judgeContext;
    const state: JudgeState = {
      judge: createJudge(context),
      context,
      policySha256: d.policy_sha256,
      createdAt: d.created_at,
      fedBefore: Number.MIN_SAFE_INTEGER,
      revision: -1,
      lastAt: Number.NEGATIVE_INFINITY,
    };
    this.counts.rebuilt++;
    const report = this.advance(ctx, state, judgeContext, dataUntil, revision.revision);
    this.keep(d.id, state);
    return report;
  }

  /** Whether a kept judge still folds the same slices; `writes` is the log since it last looked. */
  private canReuse(
    s: JudgeState,
    d: DeploymentRecord,
    jc: JudgeContext,
    dataUntil: number,
    writes: SliceWrites,
  ): boolean {
    if (s.policySha256 !== d.policy_sha256 || s.createdAt !== d.created_at) return false;
    // Looks only move forward; an earlier time (a recheck, a replay) is built afresh.
    if (jc.at < s.lastAt || dataUntil < s.fedBefore) return false;
    if (jc.endedAt !== s.context.endedAt) return false;
    if (!extends_(s.context.steps, jc.steps)) return false;
    // Fewer writes than this judge has seen: the file was replaced (a restored backup).
    if (writes.revision < s.revision) return false;
    return writes.firstT === null || writes.firstT >= s.fedBefore;
  }

  /** Folds the slices stored since the judge's last look (read at `revision` of the write log), then reports. */
  private advance(
    ctx: OperationContext,
    s: JudgeState,
    jc: JudgeContext,
    dataUntil: number,
    revision: number,
  ): Report {
    const from = s.fedBefore;
    const until = Math.min(jc.at, dataUntil);
    if (until > from) {
      for (const slice of loadSlices(ctx.ledger, jc.deploymentId, until, from)) s.judge.addSlice(slice);
      s.fedBefore = until;
    }
    s.revision = revision;
    s.context.steps = jc.steps;
    s.context.state = jc.state;
    const report = s.judge.report(jc.at, { dataUntil });
    s.lastAt = jc.at;
    // Most recently used last, so the first entry is the one to let go.
    this.states.delete(jc.deploymentId);
    this.states.set(jc.deploymentId, s);
    return report;
  }

  private keep(id: string, s: JudgeState): void {
    this.states.set(id, s);
    while (this.states.size > this.capacity) {
      const oldest = this.states.keys().next().value;
      if (oldest === undefined) break;
      this.states.delete(oldest);
    }
  }

  /** Lets a deployment's judge go (it ended, or the caller knows its state is stale). */
  forget(deploymentId: string): void {
    this.states.delete(deploymentId);
  }

  stats(): JudgeStateStats {
    return { kept: this.states.size, ...this.counts };
  }
}

/** Whether `next` is `before` with steps added at the end (or the same). */
function extends_(before: readonly StepStart[], next: readonly StepStart[]): boolean {
  if (next.length < before.length) return false;
  for (let i = 0; i < before.length; i++) {
    const a = before[i]!;
    const b = next[i]!;
    if (a.step !== b.step || a.percent !== b.percent || a.startedAt !== b.startedAt) return false;
  }
  return true;
}
