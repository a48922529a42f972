import { z } from "zod";
import { populationFilterSchema } from "../cohort/population.js";
import { parseDuration } from "../duration.js";
import { dimNameSchema, seriesNameSchema } from "../ids.js";
import { durationSchema } from "./duration-schema.js";
import { checkTemplate } from "./promql-template.js";

// The policy is the team's contract with the judge. This zod schema is the single source:
// the TypeScript types, validate_policy and policies/policy.schema.json all come from it.
// Every object is strict: an unknown (often misspelt) field is an error with its path.

const percentSchema = z
  .number()
  .gt(0, "a rung's percent must be above 0")
  .lte(100, "a rung's percent must be at most 100")
  .refine((p) => Math.abs(Math.round(p * 100) - p * 100) < 1e-6, "percent must be a multiple of 0.01");

export const rungSchema = z.strictObject({
  percent: percentSchema,
  window: durationSchema
    .optional()
    .meta({ description: "Observation window at this percent before it may promote." }),
});

const relativeSchema = z.number().min(0, "must be 0 or more").max(100);
const absoluteSchema = z.number().min(0, "must be 0 or more").refine(Number.isFinite, "must be finite");

export const thresholdSchema = z
  .strictObject({ relative: relativeSchema.optional(), absolute: absoluteSchema.optional() })
  .refine((t) => (t.relative === undefined) !== (t.absolute === undefined), {
    message: "give exactly one of relative or absolute",
  });
export type Threshold = z.infer<typeof thresholdSchema>;

const catastropheSchema = z
  .strictObject({
    limit: z.number().refine(Number.isFinite, "must be finite").meta({
      description:
        "Canary value beyond which the step rolls back at once (a rate for ratio metrics, the metric's unit otherwise).",
    }),
    min_count: z
      .number()
      .int()
      .positive()
      .meta({ description: "Trials (or samples) the canary needs before the limit applies." }),
    percentile: z
      .number()
      .gt(0)
      .lt(100)
      .optional()
      .meta({ description: "Histogram metrics: the percentile the limit applies to." }),
  })
  .meta({
    description: "A catastrophe net: an absolute limit with a minimum-count guard, checked besides the test.",
  });

const metricBase = {
  name: seriesNameSchema.meta({ description: "Name of the metric in reports and decisions." }),
  bad: z.enum(["increase", "decrease"]).meta({ description: "Direction of harm." }),
  tolerance: thresholdSchema.meta({
    description: "Rollback threshold: a proven harm larger than this rolls back.",
  }),
  margin: thresholdSchema.optional().meta({
    description:
      "Promotion threshold (non-inferiority). Defaults to the tolerance; must be at least the tolerance.",
  }),
  critical: z.boolean().default(true).meta({
    description:
      "A critical metric rolls back on regression and must be proven within margin to promote; others only hold.",
  }),
  dims: z
    .array(dimNameSchema)
    .max(8)
    .optional()
    .meta({ description: "Segment dimensions also judged, each on its own." }),
  catastrophe: catastropheSchema.optional(),
};

export const ratioMetricSchema = z.strictObject({
  ...metricBase,
  type: z.literal("ratio"),
  events: seriesNameSchema.meta({ description: "Counter of events (e.g. errors, cache hits)." }),
  trials: seriesNameSchema.meta({ description: "Counter of trials (e.g. requests, cache lookups)." }),
});

export const histogramMetricSchema = z.strictObject({
  ...metricBase,
  type: z.literal("histogram"),
  series: seriesNameSchema,
  percentiles: z
    .array(
      z
        .number()
        .gt(0, "percentiles lie strictly between 0 and 100")
        .lt(100, "percentiles lie strictly between 0 and 100"),
    )
    .min(1)
    .max(8)
    .default([50, 90, 99]),
});

export const meanMetricSchema = z.strictObject({
  ...metricBase,
  type: z.literal("mean"),
  series: seriesNameSchema.meta({ description: "Series with moments {n, sum, sum_sq}." }),
});

export const throughputMetricSchema = z.strictObject({
  ...metricBase,
  type: z.literal("throughput"),
  series: seriesNameSchema.meta({ description: "Counter whose rate per unit of traffic share is compared." }),
});

export const metricSchema = z.discriminatedUnion("type", [
  ratioMetricSchema,
  histogramMetricSchema,
  meanMetricSchema,
  throughputMetricSchema,
]);
export type MetricPolicy = z.infer<typeof metricSchema>;
export type RatioMetricPolicy = z.infer<typeof ratioMetricSchema>;
export type HistogramMetricPolicy = z.infer<typeof histogramMetricSchema>;
export type MeanMetricPolicy = z.infer<typeof meanMetricSchema>;
export type ThroughputMetricPolicy = z.infer<typeof throughputMetricSchema>;

const envNameSchema = z
  .string()
  .regex(/^[A-Z_][A-Z0-9_]{0,127}$/, "name an environment variable (A-Z, 0-9, _), never the secret itself");

export const prometheusSourceSchema = z.strictObject({
  url: z
    .url({ protocol: /^https?$/, error: "expected an http(s) URL of a Prometheus-compatible query API" })
    .refine(
      (u) => !/^[a-z]+:\/\/[^/]*@/i.test(u),
      "no credentials in the URL: use token_env or basic_auth_env",
    ),
  token_env: envNameSchema
    .optional()
    .meta({ description: "Environment variable holding a bearer token (never the token itself)." }),
  basic_auth_env: z
    .strictObject({ user: envNameSchema, password: envNameSchema })
    .optional()
    .meta({ description: "Environment variables holding the basic-auth user and password." }),
  headers: z
    .record(z.string(), z.string().min(1).max(256))
    .superRefine((headers, ctx) => {
      for (const name of Object.keys(headers)) {
        if (!/^[A-Za-z0-9-]{1,64}$/.test(name))
          ctx.addIssue({ code: "custom", path: [name], message: "a header name: letters, digits and '-'" });
        else if (/^(authorization|cookie|proxy-authorization)$/i.test(name))
          ctx.addIssue({
            code: "custom",
            path: [name],
            message: "headers are for non-secret values: put credentials in token_env or basic_auth_env",
          });
      }
    })
    .optional()
    .meta({ description: "Extra non-secret headers, e.g. X-Scope-OrgID for Mimir tenancy." }),
  ca_file: z
    .string()
    .min(1)
    .optional()
    .meta({ description: "PEM file of the CA that signs an https server's certificate." }),
  timeout: durationSchema.default("10s"),
});

const cohortLabelSchema = z.string().min(1).max(256);

export const sourceSchema = z.strictObject({
  prometheus: prometheusSourceSchema,
  lag: durationSchema
    .default("1m")
    .meta({ description: "A slice is used only once t + slice + lag <= now (late samples)." }),
  max_errors: z
    .number()
    .int()
    .min(1)
    .max(1000)
    .default(4)
    .meta({ description: "Consecutive looks with a failed query before on_source_error applies." }),
  cohorts: z
    .strictObject({
      canary: cohortLabelSchema.optional(),
      control: cohortLabelSchema.optional(),
      excluded: cohortLabelSchema.optional(),
    })
    .optional()
    .meta({
      description:
        "What {{cohort}} renders to per cohort (default canary, control; excluded is fetched only when named).",
    }),
  series: z
    .record(
      seriesNameSchema,
      z
        .string()
        .min(1)
        .max(4000)
        .superRefine((q, ctx) => {
          for (const message of checkTemplate(q)) ctx.addIssue({ code: "custom", message });
        }),
    )
    .meta({
      description:
        "PromQL per series with {{deployment}}, {{cohort}}, {{service}}, {{version}}, {{vars.NAME}} (inside quotes, escaped) and {{slice}} placeholders.",
    }),
});
export type SourcePolicy = z.infer<typeof sourceSchema>;

export const notifyTargetSchema = z.strictObject({
  type: z.enum(["slack", "webhook"]),
  url_env: envNameSchema,
  secret_env: envNameSchema.optional().meta({ description: "Webhooks: HMAC-SHA256 signing secret." }),
  events: z
    .array(z.enum(["started", "step_changed", "hold", "rollback", "completed", "override"]))
    .optional()
    .meta({ description: "Only these events (default: all)." }),
});

export const maxHoldSchema = z.strictObject({
  after: durationSchema.meta({ description: "How long a step may hold past its window." }),
  action: z.enum(["rollback", "hold"]).default("rollback"),
});

export const policySchema = z
  .strictObject({
    service: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/, "use letters, digits, '.', '_' or '-'"),
    slice: durationSchema.default("1m"),
    check_every: durationSchema.default("15m"),
    alpha: z
      .number()
      .gt(0, "alpha must be above 0")
      .lte(0.2, "alpha above 0.2 is not a guardrail")
      .default(0.05),
    warmup: durationSchema
      .optional()
      .meta({ description: "Time after each step change excluded from judgment and the split check." }),
    max_segments: z.number().int().min(1).max(1000).default(50),
    ladder: z
      .array(rungSchema)
      .min(2, "a ladder needs at least one canary rung and the final 100% rung")
      .max(20),
    metrics: z.array(metricSchema).min(1, "name at least one metric to judge").max(100),
    population: populationFilterSchema.optional(),
    approvers: z.array(z.string().min(1).max(256)).default([]),
    source: sourceSchema.optional(),
    notify: z.array(notifyTargetSchema).default([]),
    on_no_data: z.enum(["hold", "rollback"]).default("hold"),
    on_srm: z.enum(["hold", "rollback"]).default("hold"),
    // Optional rather than defaulted: a default would change every existing policy's hash.
    on_source_error: z.enum(["hold", "rollback"]).optional().meta({
      description:
        "What source.max_errors consecutive failed looks of the metric source lead to (default hold; never a promotion).",
    }),
    auto_promote: z.boolean().default(true),
    auto_rollback: z.boolean().default(true),
    max_hold: maxHoldSchema.optional(),
    ladder_owner: z.enum(["canary", "external"]).optional().meta({
      description:
        "external: another controller (Argo Rollouts, Flagger) moves the traffic and reports its percent; the ladder's rungs give the windows. Absent: canary-pilot moves it.",
    }),
  })
  .superRefine((p, ctx) => {
    p.ladder.forEach((rung, i) => {
      const prev = p.ladder[i - 1];
      if (prev && !(rung.percent > prev.percent)) {
        ctx.addIssue({
          code: "custom",
          path: ["ladder", i, "percent"],
          message: "percents must strictly increase along the ladder",
        });
      }
      if (i < p.ladder.length - 1 && rung.window === undefined) {
        ctx.addIssue({
          code: "custom",
          path: ["ladder", i, "window"],
          message: "every rung before the last needs an observation window",
        });
      }
      const sliceMs = parseDuration(p.slice);
      const windowMs = rung.window === undefined ? undefined : parseDuration(rung.window);
      if (sliceMs !== undefined && windowMs !== undefined && windowMs < sliceMs) {
        ctx.addIssue({
          code: "custom",
          path: ["ladder", i, "window"],
          message: `the ${rung.window} window is shorter than one slice (slice: ${p.slice}): the step could never see a whole slice; lengthen the window or shorten the slice`,
        });
      }
    });
    const last = p.ladder[p.ladder.length - 1];
    if (last && last.percent !== 100) {
      ctx.addIssue({
        code: "custom",
        path: ["ladder", p.ladder.length - 1, "percent"],
        message: "the last rung must be 100",
      });
    }
    const names = new Set<string>();
    p.metrics.forEach((m, i) => {
      if (names.has(m.name))
        ctx.addIssue({
          code: "custom",
          path: ["metrics", i, "name"],
          message: `duplicate metric name ${m.name}`,
        });
      names.add(m.name);
      checkThresholds(m, i, ctx);
      if (m.catastrophe && m.type === "histogram" && m.catastrophe.percentile === undefined) {
        ctx.addIssue({
          code: "custom",
          path: ["metrics", i, "catastrophe", "percentile"],
          message: "a histogram's catastrophe limit needs the percentile it applies to",
        });
      }
    });
    if (p.source) {
      const needed = new Set(p.metrics.flatMap(seriesOfMetric));
      for (const [i, m] of p.metrics.entries()) {
        if (m.type === "mean")
          ctx.addIssue({
            code: "custom",
            path: ["metrics", i, "type"],
            message:
              "a Prometheus source delivers counters and histograms; a mean metric needs pushed moments (record_metrics), or judge it as a histogram",
          });
      }
      for (const s of needed) {
        if (!(s in p.source.series)) {
          ctx.addIssue({
            code: "custom",
            path: ["source", "series"],
            message: `metric series ${s} has no query; add source.series.${s}`,
          });
        }
      }
    }
  });

function checkThresholds(m: MetricPolicy, i: number, ctx: z.RefinementCtx): void {
  if ((m.type === "ratio" || m.type === "throughput") && m.tolerance.absolute !== undefined) {
    ctx.addIssue({
      code: "custom",
      path: ["metrics", i, "tolerance"],
      message: `a ${m.type} metric takes a relative tolerance only (an absolute difference of rates has no exact sequential test)`,
    });
  }
  if ((m.type === "ratio" || m.type === "throughput") && m.margin?.absolute !== undefined) {
    ctx.addIssue({
      code: "custom",
      path: ["metrics", i, "margin"],
      message: `a ${m.type} metric takes a relative margin only`,
    });
  }
  const tol = m.tolerance.relative ?? m.tolerance.absolute ?? 0;
  if (!m.margin && tol === 0) {
    ctx.addIssue({
      code: "custom",
      path: ["metrics", i, "margin"],
      message:
        "a tolerance of 0 needs an explicit margin (no amount of data proves 'no increase at all'), e.g. margin: { relative: 0.5 }",
    });
  }
  if (m.margin) {
    const sameKind = (m.margin.relative === undefined) === (m.tolerance.relative === undefined);
    if (!sameKind) {
      ctx.addIssue({
        code: "custom",
        path: ["metrics", i, "margin"],
        message: "margin and tolerance must both be relative or both absolute",
      });
    } else {
      const mar = m.margin.relative ?? m.margin.absolute ?? 0;
      if (mar < tol)
        ctx.addIssue({
          code: "custom",
          path: ["metrics", i, "margin"],
          message: `margin (${mar}) must be at least the tolerance (${tol})`,
        });
      if (mar === 0)
        ctx.addIssue({ code: "custom", path: ["metrics", i, "margin"], message: "margin must be above 0" });
    }
  }
}

/** The series a metric reads. */
export function seriesOfMetric(m: MetricPolicy): string[] {
  return m.type === "ratio" ? [m.events, m.trials] : [m.series];
}

/** A validated policy (defaults filled in). */
export type Policy = z.infer<typeof policySchema>;
/** A policy as a person writes it (defaults optional). */
export type PolicyInput = z.input<typeof policySchema>;
