import type { JudgeContext, StepStart, StoredSlice } from "../deployment.js";
import { durationMs } from "../duration.js";
import { policySha256 } from "../policy/parse.js";
import { seriesOfMetric } from "../policy/schema.js";
import type { Report } from "../report.js";
import { harmGridLogWeights, marginThreshold, restartWeights } from "../stats/budget.js";
import type { PluginSpec } from "../stats/plugin-evidence.js";
import { RatioTestPool } from "../stats/ratio-evidence.js";
import { InputsHasher, inputsView, mergeSlices } from "./inputs.js";
import { MetricJudge } from "./metric-judge.js";
import { groupTotals, SeriesRegistry } from "./series.js";
import { sortRows } from "./sort.js";
import { SplitTracker, splitSeries } from "./srm.js";
import {
  nextCheckAfter,
  type StepSpan,
  sliceMs,
  sliceRole,
  spanAt,
  stepSpans,
  warmupMs,
} from "./timeline.js";
import type { RowContext, TrackerEnv } from "./trackers/types.js";

// The comparison pipeline (Kayenta-style stages, each a small unit):
//   1. select: slices from the first step's start, before `at`, before the end (timeline.ts)
//   2. merge and order them canonically; hash them as they are used (inputs.ts)
//   3. add up each time slice per cohort and per segment (series.ts)
//   4. feed each metric's trackers: whole cohort, then segments (metric-judge.ts, trackers/)
//   5. feed the split check (srm.ts)
//   6. at report time: one row per metric statistic and segment, descriptive segment rows, the
//      split block, rows sorted worst first (sort.ts), notes and hashes.
//
// The judge is incremental: slices go in with addSlice, and report(at) first processes every
// pending time slice before `at` in time order. compareMetrics is exactly that fold, so the
// simulator (which keeps one judge per deployment and reports at every look) and the tools (which
// compare from stored slices) compute the same numbers. The statuses never depend on the
// intervals, so a caller that only needs the verdict can skip them.

export interface ReportOptions {
  /** Confidence intervals (display only; the bisection costs time). Default true. */
  intervals?: boolean;
  /** Compute inputs_sha256 (a canonical JSON pass over every slice used). Default true. */
  hash?: boolean;
  /**
   * Slices are complete only before this time (a pulled source's lag): looks at check times after
   * it wait for their data, so a look sees the same slices however late it is taken. Default `at`.
   */
  dataUntil?: number;
}

/** How the judge's tests are built; the defaults are the product's. */
export interface JudgeOptions {
  /**
   * A predictable plug-in blended into the error-rate (ratio) rows' harm tests
   * (stats/plugin-evidence.ts). Default null: the mixture alone. An experiment, measured in
   * docs/judge-benchmark.md "Round 3"; the benchmark's `ours-plugin` judge sets it.
   */
  harmPlugin?: PluginSpec | null;
}

export interface Judge {
  /** Adds a slice; any order within a time slice. Slices before the last reported time are refused. */
  addSlice(slice: StoredSlice): void;
  /** Records a step change (the context's `steps` may be extended instead). */
  addStep(step: StepStart): void;
  /** The report as of `at` (ms since epoch): the judge moves forward to `at` first. */
  report(at: number, opts?: ReportOptions): Report;
}

/**
 * The window of earlier control data behind a percentile's threshold: at least 10 minutes (or 5
 * slices), as long as it takes to hold 25 samples beyond the percentile, at most an hour (or 30
 * slices). Short enough that a shared incident stops inflating the thresholds minutes after it ends.
 */
export function thresholdWindow(width: number): TrackerEnv["thresholdWindow"] {
  return {
    minSpanMs: Math.max(10 * 60_000, 5 * width),
    maxSpanMs: Math.max(60 * 60_000, 30 * width),
    tailTarget: 25,
  };
}

class IncrementalJudge implements Judge {
  private readonly sliceMs: number;
  private readonly warmupMs: number;
  private readonly registry = new SeriesRegistry();
  private readonly metrics: MetricJudge[];
  private readonly split: SplitTracker;
  private readonly hasher = new InputsHasher();
  private readonly policyHash: string;
  private readonly pending = new Map<number, StoredSlice[]>();
  private readonly addedSteps: StepStart[] = [];
  private spans: StepSpan[] = [];
  private spansFrom: { steps: readonly StepStart[]; length: number; added: number } | null = null;
  /**
   * Slices used since the last hashed report, in canonical order: hashed lazily, only when a report
   * asks for the hash, then let go (a judge kept between looks must not hold every slice).
   */
  private unhashed: StoredSlice[] = [];
  /** Start of the last time slice processed (-Infinity before any). */
  private processedUntil = Number.NEGATIVE_INFINITY;
  /** The last check time whose look has been taken (-Infinity before any). */
  private lookedAt = Number.NEGATIVE_INFINITY;
  private excludedSlices = 0;

  constructor(
    private readonly ctx: Omit<JudgeContext, "at">,
    options: JudgeOptions,
  ) {
    const policy = ctx.policy;
    this.sliceMs = sliceMs(policy);
    this.warmupMs = warmupMs(policy);
    for (const m of policy.metrics) {
      if (m.type === "ratio" || m.type === "throughput")
        for (const s of seriesOfMetric(m)) this.registry.counters.add(s);
      else if (m.type === "histogram") this.registry.histograms.add(m.series);
      else this.registry.moments.add(m.series);
      for (const d of m.dims ?? []) this.registry.dims.add(d);
    }
    for (const f of splitSeries(policy)) {
      if (f.kind === "counter") this.registry.counters.add(f.name);
    }
    const env: TrackerEnv = {
      policy,
      restartWeights: restartWeights(policy),
      harmGridLogWeights: harmGridLogWeights(policy),
      registry: this.registry,
      sliceMs: this.sliceMs,
      thresholdWindow: thresholdWindow(this.sliceMs),
      ratioTests: new RatioTestPool(),
      harmPlugin: options.harmPlugin ?? null,
    };
    this.metrics = policy.metrics.map((m) => new MetricJudge(m, env));
    this.split = new SplitTracker(policy);
    this.policyHash = policySha256(policy);
  }

  private allSteps(): StepStart[] {
    return this.addedSteps.length === 0 ? [...this.ctx.steps] : [...this.ctx.steps, ...this.addedSteps];
  }

  /** Current spans; a step history that changes behind processed slices is refused. */
  private currentSpans(): StepSpan[] {
    const from = this.spansFrom;
    if (
      from &&
      from.steps === this.ctx.steps &&
      from.length === this.ctx.steps.length &&
      from.added === this.addedSteps.length
    ) {
      return this.spans;
    }
    const next = stepSpans(this.allSteps(), this.warmupMs);
    if (next.length === 0) throw new Error("the judge needs at least one step (the deployment's start)");
    const processedEnd = this.processedUntil + this.sliceMs;
    for (let i = 0; i < next.length; i++) {
      const before = this.spans[i];
      const now = next[i]!;
      const same =
        before &&
        before.startedAt === now.startedAt &&
        before.step === now.step &&
        before.percent === now.percent;
      if (!same && now.startedAt < processedEnd) {
        throw new Error(
          `a step starting at ${new Date(now.startedAt).toISOString()} changes slices the judge has already processed; build a new judge`,
        );
      }
    }
    this.spans = next;
    this.spansFrom = { steps: this.ctx.steps, length: this.ctx.steps.length, added: this.addedSteps.length };
    return next;
  }

  addSlice(slice: StoredSlice): void {
    if (slice.t <= this.processedUntil) {
      throw new Error(
        `slice at ${new Date(slice.t).toISOString()} arrived after the judge moved past it; add slices before reporting a later time`,
      );
    }
    const list = this.pending.get(slice.t);
    if (list) list.push(slice);
    else this.pending.set(slice.t, [slice]);
  }

  addStep(step: StepStart): void {
    this.addedSteps.push(step);
    this.currentSpans();
  }

  private processGroup(t: number, slices: StoredSlice[], spans: StepSpan[]): void {
    const role = sliceRole(spans, t, this.sliceMs);
    this.processedUntil = t;
    if (!role) return; // before the deployment started: not used
    const merged = mergeSlices(slices);
    for (const s of merged) this.unhashed.push(s);
    const group = groupTotals(merged, this.registry);
    this.excludedSlices += group.excludedSlices;
    const sctx = { t, span: role.span, judged: role.judged };
    for (const m of this.metrics) m.observe(sctx, group);
    this.split.observe(role, group.whole);
  }

  /** Processes pending time slices that start before `end`; later ones wait, ones past the deployment's end are dropped. */
  private advance(end: number): void {
    const spans = this.currentSpans();
    const endedAt = this.ctx.endedAt;
    const times = [...this.pending.keys()]
      .filter((t) => t < end || (endedAt !== undefined && t >= endedAt))
      .sort((a, b) => a - b);
    for (const t of times) {
      const slices = this.pending.get(t)!;
      this.pending.delete(t);
      if (endedAt !== undefined && t >= endedAt) continue;
      this.lookUntil(t, spans);
      this.processGroup(t, slices, spans);
    }
    this.lookUntil(end, spans);
  }

  /**
   * Takes the looks at check times up to t, each on the slices before it. Rollback evidence is the
   * maximum over these looks (and the report's own time), so it is the same whether a caller
   * compared every minute or once: the policy's cadence sets how often the tests are looked at.
   */
  private lookUntil(t: number, spans: StepSpan[]): void {
    for (;;) {
      const next = nextCheckAfter(spans, this.lookedAt, this.ctx.policy);
      if (next > t) return;
      for (const m of this.metrics) m.look();
      this.lookedAt = next;
    }
  }

  report(at: number, opts: ReportOptions = {}): Report {
    const policy = this.ctx.policy;
    const endedAt = this.ctx.endedAt;
    const ended = endedAt !== undefined && endedAt <= at;
    const end = ended ? endedAt : at;
    this.advance(Math.min(end, opts.dataUntil ?? end));
    const spans = this.currentSpans();
    // After the end, the step that was in force just before it (a completed deployment's last
    // canary step, not the empty 100% rung).
    const span = spanAt(spans, ended ? end - 1 : end);
    const ordinal = span?.ordinal ?? -1;
    const rctx: RowContext = {
      ordinal,
      span,
      harmThreshold: 0,
      marginThreshold: marginThreshold(policy),
      intervals: opts.intervals !== false,
      alpha: policy.alpha,
    };
    const rows = sortRows(this.metrics.flatMap((m) => m.rows(rctx)));
    const first = spans[0]!;
    const step = span?.step ?? first.step;
    const percent = span?.percent ?? first.percent;
    const startedAt = span?.startedAt ?? first.startedAt;
    const judgedFrom = span?.judgedFrom ?? first.judgedFrom;
    const rung = policy.ladder[step];
    const windowElapsed = rung?.window === undefined ? true : end - startedAt >= durationMs(rung.window);
    const notes: string[] = [];
    if (!span) notes.push("the report time is before the deployment's first step: nothing to judge yet");
    else if (end < judgedFrom) {
      notes.push(
        `in the warm-up after the step change until ${new Date(judgedFrom).toISOString()}: slices before it are not judged`,
      );
    }
    for (const m of this.metrics) notes.push(...m.notes());
    for (const s of [...this.registry.boundsChanged].sort()) {
      notes.push(
        `${s}: slices whose histogram bounds differ from the first ones seen were left out (bounds must stay the same for a deployment)`,
      );
    }
    const report: Report = {
      deployment_id: this.ctx.deploymentId,
      step,
      percent,
      state: this.ctx.state,
      at: new Date(at).toISOString(),
      window: { from: new Date(judgedFrom).toISOString(), to: new Date(end).toISOString() },
      step_started_at: new Date(startedAt).toISOString(),
      window_elapsed: windowElapsed,
      srm: this.split.block(ordinal, span?.percent),
      rows,
      inputs_sha256: opts.hash === false ? "" : this.inputsHash(at, end),
      policy_sha256: this.policyHash,
    };
    if (this.excludedSlices > 0) {
      report.excluded = {
        slices: this.excludedSlices,
        note: "slices from traffic outside the population: stored and shown, never judged and never counted as control",
      };
    }
    if (notes.length > 0) report.notes = notes;
    return report;
  }

  private inputsHash(at: number, end: number): string {
    for (const s of this.unhashed) this.hasher.addSlice(s);
    this.unhashed = [];
    const view: Omit<JudgeContext, "policy"> = {
      deploymentId: this.ctx.deploymentId,
      steps: this.allSteps(),
      state: this.ctx.state,
      at,
    };
    if (this.ctx.endedAt !== undefined) view.endedAt = this.ctx.endedAt;
    return this.hasher.digest(inputsView(view, end));
  }
}

/**
 * An incremental judge for one deployment. The context is read live: a caller may extend
 * `ctx.steps` (or call addStep) when the deployment moves, and change `state`/`endedAt`.
 */
export function createJudge(ctx: Omit<JudgeContext, "at">, options: JudgeOptions = {}): Judge {
  return new IncrementalJudge(ctx, options);
}

/** compare_metrics: the report for `ctx.at` from the stored slices (any order). */
export function compareMetrics(
  ctx: JudgeContext,
  slices: readonly StoredSlice[],
  opts: ReportOptions = {},
): Report {
  const judge = createJudge(ctx);
  const until = Math.min(ctx.at, opts.dataUntil ?? ctx.at);
  for (const s of slices) if (s.t < until) judge.addSlice(s);
  return judge.report(ctx.at, opts);
}
