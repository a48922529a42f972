import { createJudge, type JudgeOptions } from "../../../../mcp-server/core/compare/index.js";
import { decideVerdict } from "../../../../mcp-server/core/decide/index.js";
import type { JudgeContext, StoredSlice } from "../../../../mcp-server/core/deployment.js";
import { durationMs } from "../../../../mcp-server/core/duration.js";
import { type Policy, type PolicyInput, policySchema } from "../../../../mcp-server/core/policy/schema.js";
import type { PluginSpec } from "../../../../mcp-server/core/stats/plugin-evidence.js";
import { LATENCY_BOUNDS } from "../latency.js";
import type { PolicyKind } from "../scenarios.js";
import type {
  CohortMinute,
  DeploymentJudge,
  DeploymentSetup,
  JudgeFactory,
  LookResult,
  MinuteData,
} from "./types.js";

// Our judge, exactly as `decide` runs it: the comparison engine's incremental judge fed one slice
// per cohort per minute, its report at every look, and the pure decision step on that report.
// Nothing here re-implements a statistic; the benchmark measures the product's own functions.

/** The simulated deployment's clock starts here (any fixed time works; slices align to minutes). */
const T0 = Date.parse("2026-05-26T00:00:00Z");
const MINUTE = 60_000;

const HOLD_NEEDS_SAMPLES = new Set(["insufficient_data", "margin_not_proven", "inconclusive"]);

/** The benchmark's policies: the error metric alone, or errors plus four latency percentiles. */
export function benchPolicy(
  kind: PolicyKind,
  lookEveryMinutes: number,
  warmupMinutes: number,
  ladder: DeploymentSetup["ladder"],
): Policy {
  const metrics: PolicyInput["metrics"] = [
    {
      name: "error_rate",
      type: "ratio",
      events: "http_errors",
      trials: "http_requests",
      bad: "increase",
      tolerance: { relative: 0 },
      margin: { relative: 0.5 },
    },
  ];
  if (kind === "five") {
    metrics.push({
      name: "latency",
      type: "histogram",
      series: "http_latency_ms",
      percentiles: [50, 90, 99, 99.9],
      bad: "increase",
      tolerance: { relative: 0 },
      margin: { relative: 0.25 },
    });
  }
  const input: PolicyInput = {
    service: "bench",
    slice: "1m",
    check_every: `${lookEveryMinutes}m`,
    alpha: 0.05,
    ladder: ladder.map((r) =>
      r.windowMinutes === undefined
        ? { percent: r.percent }
        : { percent: r.percent, window: `${r.windowMinutes}m` },
    ),
    metrics,
  };
  if (warmupMinutes > 0) input.warmup = `${warmupMinutes}m`;
  return policySchema.parse(input);
}

function toSlice(minute: number, cohort: "canary" | "control", c: CohortMinute): StoredSlice {
  const slice: StoredSlice = {
    t: T0 + minute * MINUTE,
    cohort,
    dimsKey: "",
    counters: { http_requests: c.requests, http_errors: c.errors },
    histograms: {},
    moments: {},
  };
  if (c.latency) slice.histograms.http_latency_ms = { bounds: [...LATENCY_BOUNDS], counts: c.latency };
  return slice;
}

class OurJudge implements DeploymentJudge {
  private readonly ctx: JudgeContext;
  private readonly judge: ReturnType<typeof createJudge>;

  constructor(setup: DeploymentSetup, options: JudgeOptions = {}) {
    const policy = benchPolicy(
      setup.policy,
      setup.lookEveryMinutes,
      setup.scenario.warmupMinutes,
      setup.ladder,
    );
    this.ctx = {
      deploymentId: "bench",
      policy,
      steps: [{ step: 0, percent: setup.ladder[0]!.percent, startedAt: T0 }],
      state: "canary",
      at: T0,
    };
    this.judge = createJudge(this.ctx, options);
  }

  addMinute(d: MinuteData): void {
    this.judge.addSlice(toSlice(d.minute, "canary", d.canary));
    this.judge.addSlice(toSlice(d.minute, "control", d.control));
  }

  look(minute: number): LookResult {
    const at = T0 + minute * MINUTE;
    this.ctx.at = at;
    const report = this.judge.report(at, { intervals: false, hash: false });
    const result = decideVerdict({ ctx: this.ctx, report });
    const codes = new Set(result.reasons.map((r) => r.code));
    const out: LookResult = {
      verdict: result.verdict,
      insufficient: result.verdict === "hold" && (codes.has("insufficient_data") || codes.has("no_data")),
    };
    if (
      result.verdict === "hold" &&
      report.window_elapsed &&
      [...codes].some((c) => HOLD_NEEDS_SAMPLES.has(c))
    ) {
      const advice = result.advice;
      const window = this.ctx.policy.ladder[this.currentStep()]?.window;
      out.hold = {
        needsSamples: true,
        namesPercent: advice?.suggested_percent != null,
        withinWindow:
          advice?.suggested_percent != null &&
          window !== undefined &&
          advice.suggested_window_ms === durationMs(window),
      };
    }
    const tail = report.rows.find(
      (r) => r.metric === "latency" && r.statistic === "p99.9" && r.segment === undefined,
    );
    if (tail) out.tail = { status: tail.status, proven: tail.margin_proven };
    return out;
  }

  private currentStep(): number {
    return this.ctx.steps[this.ctx.steps.length - 1]?.step ?? 0;
  }

  stepChanged(step: number, minute: number): void {
    const percent = this.ctx.policy.ladder[step]?.percent ?? 100;
    this.ctx.steps = [...this.ctx.steps, { step, percent, startedAt: T0 + minute * MINUTE }];
  }
}

export const ourJudge: JudgeFactory = {
  id: "ours",
  label: "canary-pilot (anytime-valid e-processes + decide)",
  create: (setup) => new OurJudge(setup),
};

/**
 * The plug-in experiment (docs/judge-benchmark.md "Round 3"): the same judge with a predictable
 * plug-in in the error rate's harm test. The default is the fastest version measured (the plug-in
 * alone, its estimate pulled toward twice the null by 4 pseudo-events); BENCH_HARM_PLUGIN=
 * "weight,prior,target" sets another (worker threads inherit the environment).
 */
export const PLUGIN_SPEC: PluginSpec = { weight: 1, prior: 4, target: 2 };

function pluginSpec(): PluginSpec {
  const text = process.env.BENCH_HARM_PLUGIN;
  if (!text) return PLUGIN_SPEC;
  const [weight, prior, target] = text.split(",").map(Number);
  const spec = { weight: weight ?? Number.NaN, prior: prior ?? Number.NaN, target: target ?? Number.NaN };
  if (!(spec.weight > 0 && spec.weight <= 1 && spec.prior > 0 && spec.target >= 1))
    throw new Error(
      `BENCH_HARM_PLUGIN must be "weight,prior,target" (0 < weight <= 1, prior > 0, target >= 1), got ${text}`,
    );
  return spec;
}

export const ourPluginJudge: JudgeFactory = {
  id: "ours-plugin",
  label: "canary-pilot with a predictable plug-in in the error rate's harm test (experiment)",
  create: (setup) => new OurJudge(setup, { harmPlugin: pluginSpec() }),
};
