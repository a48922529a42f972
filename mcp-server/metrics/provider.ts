import type { Cohort, Histogram } from "../core/slice.js";

// The metric source seam, in the shape of Argo Rollouts' metric providers: a tiny interface,
// one module per provider with its HTTP client injected, and failures kept as data (a typed
// error the judge turns into a `provider_error` hold) rather than thrown.

/** One series for one cohort over a run of whole slices. */
export interface SeriesRequest {
  /** Series name in the policy (what the judge reads). */
  series: string;
  /** What the judge expects: a counter (one number per slice) or a histogram (`le` buckets). */
  kind: "counter" | "histogram";
  cohort: Cohort;
  /** The rendered query, placeholders filled and escaped. */
  query: string;
  /** Start of the first slice wanted (ms, aligned). */
  from: number;
  /** Start of the last slice wanted (ms, aligned, inclusive). */
  to: number;
  /** Slice width (ms): the query's step. */
  step: number;
}

export type SliceValue = { kind: "counter"; value: number } | { kind: "histogram"; value: Histogram };

/** A slice the source returned: its start and the increments within it. */
export interface SlicePoint {
  t: number;
  value: SliceValue;
}

/** Why a fetch failed, for a person: what went wrong and what to do. Never carries a secret. */
export interface SourceFailure {
  series: string;
  cohort: Cohort;
  /** Stable kind, for tests and logs. */
  cause:
    | "unreachable"
    | "timeout"
    | "http_error"
    | "bad_query"
    | "query_error"
    | "bad_value"
    | "several_series"
    | "bad_buckets"
    | "config";
  message: string;
}

export type FetchResult = { ok: true; points: SlicePoint[] } | { ok: false; error: SourceFailure };

export interface MetricProvider {
  /** Fetches one series for one cohort; never throws for a source problem. */
  fetchSeries(request: SeriesRequest): Promise<FetchResult>;
  /** Requests sent so far (benchmarks and tests count them). */
  readonly requests: number;
  close(): Promise<void>;
}
