import { z } from "zod";
import type { SourcePolicy } from "../core/policy/schema.js";
import { type HttpClient, HttpFailure } from "./http-client.js";
import type { FetchResult, MetricProvider, SeriesRequest, SlicePoint, SourceFailure } from "./provider.js";

// The Prometheus provider: one query_range per series and cohort per look, evaluated at the
// end of each slice (step = slice width), so the value at t + slice is the increment within
// [t, t + slice). Anything speaking the Prometheus HTTP API answers (Prometheus, Thanos, Mimir,
// VictoriaMetrics). An empty result is no data, never zero.

const sampleSchema = z.tuple([z.number(), z.string()]);
const matrixSchema = z.object({
  status: z.literal("success"),
  data: z.object({
    resultType: z.literal("matrix"),
    result: z.array(z.object({ metric: z.record(z.string(), z.string()), values: z.array(sampleSchema) })),
  }),
});
const errorBodySchema = z.object({
  status: z.literal("error"),
  errorType: z.string().optional(),
  error: z.string().optional(),
});

type Matrix = z.infer<typeof matrixSchema>["data"]["result"];

export interface ApiAnswer<T> {
  ok: true;
  data: T;
}
export interface ApiFailure {
  ok: false;
  cause: SourceFailure["cause"];
  message: string;
}

/** Calls one API endpoint and sorts its failures into causes a person can act on. */
export async function callApi(
  send: () => Promise<{ status: number; body: string }>,
): Promise<ApiAnswer<unknown> | ApiFailure> {
  let res: { status: number; body: string };
  try {
    res = await send();
  } catch (error) {
    if (error instanceof HttpFailure) return { ok: false, cause: error.kind, message: error.message };
    throw error;
  }
  let body: unknown;
  try {
    body = JSON.parse(res.body);
  } catch {
    body = undefined;
  }
  const err = errorBodySchema.safeParse(body);
  if (err.success) {
    const bad = res.status === 400 || err.data.errorType === "bad_data";
    return {
      ok: false,
      cause: bad ? "bad_query" : "query_error",
      message: `${bad ? "the query was refused" : "the query failed"} (HTTP ${res.status}, ${err.data.errorType ?? "error"}: ${(err.data.error ?? "").slice(0, 300)})${bad ? "; fix the PromQL in the policy (run canary source check)" : "; retried next look"}`,
    };
  }
  if (res.status < 200 || res.status >= 300) {
    return {
      ok: false,
      cause: "http_error",
      message: `HTTP ${res.status} from the source${res.status === 401 || res.status === 403 ? "; check the credentials named by token_env or basic_auth_env" : res.status === 404 ? "; check that source.prometheus.url is the API's base URL (without /api/v1)" : ""}`,
    };
  }
  if (!body || typeof body !== "object" || !("data" in body))
    return { ok: false, cause: "http_error", message: "the answer is not a Prometheus API response" };
  return { ok: true, data: body };
}

function fail(req: SeriesRequest, cause: SourceFailure["cause"], message: string): FetchResult {
  return { ok: false, error: { series: req.series, cohort: req.cohort, cause, message } };
}

/** A number from the API's string form; NaN and infinities are refused by the caller. */
function parseValue(text: string): number {
  if (text === "+Inf" || text === "Inf") return Number.POSITIVE_INFINITY;
  if (text === "-Inf") return Number.NEGATIVE_INFINITY;
  return Number(text);
}

/**
 * increase() extrapolates to the range's edges, so its values need not be whole: they are
 * rounded to the nearest integer (documented; exact query shapes avoid it).
 */
function count(req: SeriesRequest, v: number, t: number, what: string): number | FetchResult {
  const at = new Date(t).toISOString();
  if (Number.isNaN(v))
    return fail(
      req,
      "bad_value",
      `${what} is NaN at the slice ${at}; a division by zero or a missing series in the query, fix the query`,
    );
  if (!Number.isFinite(v)) return fail(req, "bad_value", `${what} is infinite at the slice ${at}`);
  const n = Math.round(v);
  if (n < 0)
    return fail(
      req,
      "bad_value",
      `${what} is negative (${v}) at the slice ${at}: an increment cannot be; with offset arithmetic a counter reset does this, use increase()`,
    );
  return n;
}

function sliceOf(req: SeriesRequest, seconds: number): number | undefined {
  const t = Math.round(seconds * 1000) - req.step;
  return t % req.step === 0 && t >= req.from && t <= req.to ? t : undefined;
}

function counterPoints(req: SeriesRequest, result: Matrix): FetchResult {
  if (result.length === 0) return { ok: true, points: [] };
  if (result.length > 1) {
    const labels = [...new Set(result.flatMap((r) => Object.keys(r.metric)))].sort();
    return fail(
      req,
      "several_series",
      `the query returned ${result.length} series where one was expected${labels.length ? ` (labels ${labels.join(", ")})` : ""}${labels.includes("le") ? "; the policy uses this series as a counter, not a histogram" : ""}; wrap it in sum(...)`,
    );
  }
  const points: SlicePoint[] = [];
  for (const [ts, text] of result[0]!.values) {
    const t = sliceOf(req, ts);
    if (t === undefined) continue;
    const n = count(req, parseValue(text), t, "the value");
    if (typeof n !== "number") return n;
    points.push({ t, value: { kind: "counter", value: n } });
  }
  return { ok: true, points };
}

function histogramPoints(req: SeriesRequest, result: Matrix): FetchResult {
  if (result.length === 0) return { ok: true, points: [] };
  const buckets: { le: number; values: Map<number, number> }[] = [];
  for (const r of result) {
    const others = Object.keys(r.metric).filter((k) => k !== "le" && k !== "__name__");
    if (r.metric.le === undefined)
      return fail(
        req,
        "bad_buckets",
        "the policy uses this series as a histogram but the query returned a series without an le label; use sum by (le) (increase(x_bucket[{{slice}}]))",
      );
    if (others.length > 0)
      return fail(
        req,
        "several_series",
        `the query returned buckets split by ${others.sort().join(", ")}; aggregate them away: sum by (le) (...)`,
      );
    const le = parseValue(r.metric.le);
    if (Number.isNaN(le))
      return fail(req, "bad_buckets", `le label ${JSON.stringify(r.metric.le)} is not a number`);
    if (buckets.some((b) => b.le === le))
      return fail(
        req,
        "several_series",
        `the query returned le=${r.metric.le} twice; aggregate with sum by (le)`,
      );
    buckets.push({ le, values: new Map(r.values.map(([ts, v]) => [ts, parseValue(v)])) });
  }
  buckets.sort((a, b) => a.le - b.le);
  const top = buckets[buckets.length - 1]!;
  if (top.le !== Number.POSITIVE_INFINITY)
    return fail(
      req,
      "bad_buckets",
      'the buckets have no le="+Inf"; it counts every observation, keep it in the query',
    );
  if (buckets.length < 2) return fail(req, "bad_buckets", "the histogram needs at least one finite le bound");
  const bounds = buckets.slice(0, -1).map((b) => b.le);
  const points: SlicePoint[] = [];
  for (const ts of [...top.values.keys()].sort((a, b) => a - b)) {
    const t = sliceOf(req, ts);
    if (t === undefined) continue;
    const cumulative: number[] = [];
    for (const b of buckets) {
      const v = b.values.get(ts);
      if (v === undefined)
        return fail(
          req,
          "bad_buckets",
          `bucket le=${b.le} has no value at the slice ${new Date(t).toISOString()}`,
        );
      const n = count(req, v, t, `bucket le=${b.le}`);
      if (typeof n !== "number") return n;
      cumulative.push(n);
    }
    const counts = cumulative.map((c, i) => c - (i > 0 ? cumulative[i - 1]! : 0));
    if (counts.some((c) => c < 0))
      return fail(
        req,
        "bad_buckets",
        `the buckets are not cumulative at the slice ${new Date(t).toISOString()} (a smaller le holds more); check the query aggregates le correctly`,
      );
    points.push({ t, value: { kind: "histogram", value: { bounds, counts } } });
  }
  return { ok: true, points };
}

export function createPrometheusProvider(_source: SourcePolicy, http: HttpClient): MetricProvider {
  return {
    get requests() {
      return http.requests;
    },
    async fetchSeries(req) {
      const answer = await callApi(() =>
        http.postForm("/api/v1/query_range", {
          query: req.query,
          start: String((req.from + req.step) / 1000),
          end: String((req.to + req.step) / 1000),
          step: String(req.step / 1000),
        }),
      );
      if (!answer.ok) return fail(req, answer.cause, answer.message);
      const parsed = matrixSchema.safeParse(answer.data);
      if (!parsed.success)
        return fail(
          req,
          "bad_query",
          "the answer is not a range vector (matrix); the query must return an instant vector expression",
        );
      return req.kind === "histogram"
        ? histogramPoints(req, parsed.data.data.result)
        : counterPoints(req, parsed.data.data.result);
    },
    close: () => http.close(),
  };
}
