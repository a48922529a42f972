import { z } from "zod";
import { deploymentIdSchema, dimNameSchema, seriesNameSchema } from "./ids.js";

// A slice is the unit of metric data: per cohort, per time slice, the increments of each series
// within the slice. Everything is a sufficient statistic (counts, bucket counts, n/sum/sum of
// squares): exact, mergeable across pods, and what the sequential tests need.

export const COHORTS = ["canary", "control", "excluded"] as const;
export const cohortSchema = z.enum(COHORTS);
export type Cohort = z.infer<typeof cohortSchema>;

const count = z.number().int("must be a whole number").nonnegative("must not be negative");

/** Limits at the door, so one hostile or broken sender cannot bloat the ledger or the judge. */
export const SLICE_LIMITS = {
  /** Bucket bounds per histogram (Prometheus histograms have tens; 1 000 is generous). */
  histogramBounds: 1_000,
  /** Bytes per NDJSON line (`canary ingest`, `canary replay`). */
  lineBytes: 1_048_576,
} as const;
const finite = z.number().refine(Number.isFinite, "must be a finite number");

export const histogramSchema = z
  .strictObject({
    bounds: z
      .array(finite)
      .min(1, "needs at least one bucket bound")
      .max(
        SLICE_LIMITS.histogramBounds,
        `has more than ${SLICE_LIMITS.histogramBounds} bucket bounds; merge buckets before sending`,
      ),
    counts: z.array(count),
  })
  .superRefine((h, ctx) => {
    for (let i = 1; i < h.bounds.length; i++) {
      if (!(h.bounds[i]! > h.bounds[i - 1]!)) {
        ctx.addIssue({ code: "custom", path: ["bounds", i], message: "bounds must be strictly ascending" });
        return;
      }
    }
    if (h.counts.length !== h.bounds.length + 1) {
      ctx.addIssue({
        code: "custom",
        path: ["counts"],
        message: `needs bounds.length + 1 = ${h.bounds.length + 1} entries (the last counts values above the last bound), got ${h.counts.length}`,
      });
    }
  });
export type Histogram = z.infer<typeof histogramSchema>;

export const momentsSchema = z
  .strictObject({ n: count, sum: finite, sum_sq: finite.refine((v) => v >= 0, "must not be negative") })
  .superRefine((m, ctx) => {
    // Cauchy-Schwarz: sum^2 <= n * sum_sq, with room for rounding in the sender's float sums.
    if (m.n === 0 && (m.sum !== 0 || m.sum_sq !== 0)) {
      ctx.addIssue({ code: "custom", path: ["n"], message: "n is 0 but sum or sum_sq is not" });
    } else if (m.n > 0 && m.sum * m.sum > m.n * m.sum_sq * (1 + 1e-9) + 1e-9) {
      ctx.addIssue({
        code: "custom",
        path: ["sum_sq"],
        message: "sum_sq is too small for n and sum (sum^2 must be <= n * sum_sq)",
      });
    }
  });
export type Moments = z.infer<typeof momentsSchema>;

export const timestampSchema = z
  .string()
  .refine(
    (s) =>
      /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(s) &&
      !Number.isNaN(Date.parse(s)),
    {
      message: 'expected an ISO-8601 time with a zone, e.g. "2026-05-26T10:03:00Z"',
    },
  );

export const sliceSchema = z
  .strictObject({
    t: timestampSchema.meta({ description: "Start of the slice, aligned to the policy's slice width." }),
    cohort: cohortSchema,
    deployment_id: deploymentIdSchema.optional(),
    counters: z.record(seriesNameSchema, count).optional(),
    histograms: z.record(seriesNameSchema, histogramSchema).optional(),
    moments: z.record(seriesNameSchema, momentsSchema).optional(),
    instance: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$/, "use 1-128 letters, digits, '.', '_', ':', '/' or '-'")
      .optional()
      .meta({
        description:
          "The pod, host or pusher that measured the slice: slices from different instances add up; a re-sent slice replaces only its own instance's contribution. Without it, a re-sent slice replaces the series.",
      }),
    units: count
      .optional()
      .meta({ description: "Distinct units (users) seen in the slice; used by the split check." }),
    dims: z
      .record(dimNameSchema, z.string().min(1).max(128))
      .optional()
      .meta({ description: "Segment labels, e.g. {endpoint: '/checkout'}. Absent: the whole cohort." }),
  })
  .superRefine((s, ctx) => {
    const seen = new Set<string>();
    for (const kind of ["counters", "histograms", "moments"] as const) {
      for (const name of Object.keys(s[kind] ?? {})) {
        if (seen.has(name)) {
          ctx.addIssue({
            code: "custom",
            path: [kind, name],
            message: `series ${name} appears under more than one kind`,
          });
        }
        seen.add(name);
      }
    }
    if (seen.size === 0 && s.units === undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["counters"],
        message: "a slice needs at least one series (counters, histograms or moments) or units",
      });
    }
  });
export type Slice = z.infer<typeof sliceSchema>;

/** Canonical key of a segment's labels; "" is the whole cohort. */
export function dimsKey(dims: Record<string, string> | undefined): string {
  if (!dims) return "";
  const keys = Object.keys(dims).sort();
  if (keys.length === 0) return "";
  return JSON.stringify(keys.map((k) => [k, dims[k]]));
}
