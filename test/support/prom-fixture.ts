import type { Slice } from "../../mcp-server/core/slice.js";

// Turns known per-slice increments into cumulative counter samples every 15 s (OpenMetrics,
// timestamps in seconds) so that increase(x[1m]) at each slice's end is exactly the slice's
// increment: the range's first sample sits on its start, so Prometheus 2.x does not extrapolate.

export const SCRAPE_S = 15;
export const LATENCY_BOUNDS = [50, 100, 250, 500];

export interface CounterSeries {
  labels: Record<string, string>;
  /** Start of slice 0 (ms). */
  start: number;
  sliceMs: number;
  increments: number[];
  /** Slice index in which the process restarts: the counter drops to 0 and counts on. */
  resetAt?: number;
}

function labelText(labels: Record<string, string>): string {
  const parts = Object.entries(labels).map(
    ([k, v]) => `${k}="${v.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`,
  );
  return parts.length ? `{${parts.join(",")}}` : "";
}

/** Samples (seconds, value) of one cumulative counter. */
export function counterSamples(s: CounterSeries): [number, number][] {
  const per = s.sliceMs / 1000 / SCRAPE_S;
  let value = 1000; // the process has been up for a while: cumulative, not zero
  const out: [number, number][] = [[s.start / 1000, value]];
  s.increments.forEach((inc, i) => {
    const base = Math.floor(inc / per);
    for (let k = 1; k <= per; k++) {
      const part = base + (k === 1 ? inc - base * per : 0);
      const ts = s.start / 1000 + i * (s.sliceMs / 1000) + k * SCRAPE_S;
      if (s.resetAt === i && k === 2) value = part;
      else value += part;
      out.push([ts, value]);
    }
  });
  return out;
}

export interface Family {
  name: string;
  type: "counter" | "histogram";
  help: string;
  series: { sampleName: string; labels: Record<string, string>; samples: [number, number][] }[];
}

export function openMetrics(families: Family[]): string {
  const lines: string[] = [];
  for (const f of families) {
    lines.push(`# HELP ${f.name} ${f.help}`, `# TYPE ${f.name} ${f.type}`);
    for (const s of f.series)
      for (const [ts, v] of s.samples) lines.push(`${s.sampleName}${labelText(s.labels)} ${v} ${ts}`);
  }
  lines.push("# EOF");
  return `${lines.join("\n")}\n`;
}

/** Prometheus text exposition with millisecond timestamps (VictoriaMetrics' import). */
export function promText(families: Family[]): string {
  const lines: string[] = [];
  for (const f of families)
    for (const s of f.series)
      for (const [ts, v] of s.samples)
        lines.push(`${s.sampleName}${labelText(s.labels)} ${v} ${Math.round(ts * 1000)}`);
  return `${lines.join("\n")}\n`;
}

export interface CohortTraffic {
  /** Labels that identify the cohort's series (deployment, cohort or workload...). */
  labels: Record<string, string>;
  slices: Slice[];
}

/**
 * The families for http_requests_total (code 200 and 500) and http_latency_ms buckets from
 * slices that carry counters http_requests, http_errors and histogram http_latency_ms.
 */
export function familiesFromSlices(
  cohorts: CohortTraffic[],
  sliceMs: number,
  options: { resetAt?: number } = {},
): Family[] {
  const requests: Family = { name: "http_requests", type: "counter", help: "Requests served.", series: [] };
  const latency: Family = {
    name: "http_latency_ms",
    type: "histogram",
    help: "Request latency in milliseconds.",
    series: [],
  };
  for (const c of cohorts) {
    const sorted = [...c.slices].sort((a, b) => Date.parse(a.t) - Date.parse(b.t));
    if (sorted.length === 0) continue;
    const start = Date.parse(sorted[0]!.t);
    const reqs = sorted.map((s) => s.counters?.http_requests ?? 0);
    const errs = sorted.map((s) => s.counters?.http_errors ?? 0);
    const base = { start, sliceMs, ...(options.resetAt !== undefined ? { resetAt: options.resetAt } : {}) };
    requests.series.push({
      sampleName: "http_requests_total",
      labels: { ...c.labels, code: "200" },
      samples: counterSamples({ ...base, labels: {}, increments: reqs.map((r, i) => r - errs[i]!) }),
    });
    requests.series.push({
      sampleName: "http_requests_total",
      labels: { ...c.labels, code: "500" },
      samples: counterSamples({ ...base, labels: {}, increments: errs }),
    });
    const hists = sorted.map((s) => s.histograms?.http_latency_ms);
    if (hists.every((h) => h !== undefined)) {
      const bounds = hists[0]!.bounds;
      const les = [...bounds.map(String), "+Inf"];
      les.forEach((le, j) => {
        const cumulative = hists.map((h) => h!.counts.slice(0, j + 1).reduce((a, b) => a + b, 0));
        latency.series.push({
          sampleName: "http_latency_ms_bucket",
          labels: { ...c.labels, le },
          samples: counterSamples({ start, sliceMs, labels: {}, increments: cumulative }),
        });
      });
      const totals = hists.map((h) => h!.counts.reduce((a, b) => a + b, 0));
      latency.series.push({
        sampleName: "http_latency_ms_count",
        labels: c.labels,
        samples: counterSamples({ start, sliceMs, labels: {}, increments: totals }),
      });
      latency.series.push({
        sampleName: "http_latency_ms_sum",
        labels: c.labels,
        samples: counterSamples({ start, sliceMs, labels: {}, increments: totals.map((n) => n * 100) }),
      });
    }
  }
  return [requests, ...(latency.series.length ? [latency] : [])];
}

/** Deterministic traffic for one cohort: requests, errors at a rate, latency buckets. */
export function cohortSlices(o: {
  cohort: "canary" | "control";
  from: number;
  count: number;
  sliceMs: number;
  requests: (i: number, t: number) => number;
  errorRate: number;
  slowShare: number;
}): Slice[] {
  const out: Slice[] = [];
  for (let i = 0; i < o.count; i++) {
    const t = o.from + i * o.sliceMs;
    const n = o.requests(i, t);
    const errors = Math.round(n * o.errorRate) + ((i * 7) % 3 === 0 && n > 50 ? 1 : 0);
    const slow = Math.round(n * o.slowShare);
    const fast = n - slow;
    const counts = [Math.round(fast * 0.3), Math.round(fast * 0.5), 0, Math.round(slow * 0.8), 0];
    counts[2] = fast - counts[0]! - counts[1]!;
    counts[4] = slow - counts[3]!;
    out.push({
      t: new Date(t).toISOString(),
      cohort: o.cohort,
      counters: { http_requests: n, http_errors: errors },
      histograms: { http_latency_ms: { bounds: LATENCY_BOUNDS, counts } },
    });
  }
  return out;
}

/**
 * A policy that reads the series these fixtures write (http_requests_total by code, the
 * http_latency_ms histogram) from a Prometheus-API source at `url`: an error rate that must not
 * rise and a latency histogram within 50 ms.
 */
export function fixturePolicy(
  url: string,
  o: { service?: string; checkEvery?: string; timeout?: string; latencyCritical?: boolean } = {},
): Record<string, unknown> {
  return {
    service: o.service ?? "checkout",
    slice: "1m",
    ...(o.checkEvery ? { check_every: o.checkEvery } : {}),
    ladder: [{ percent: 10, window: "10m" }, { percent: 100 }],
    metrics: [
      {
        name: "error_rate",
        type: "ratio",
        events: "http_errors",
        trials: "http_requests",
        bad: "increase",
        tolerance: { relative: 0 },
        margin: { relative: 0.5 },
      },
      {
        name: "latency",
        type: "histogram",
        series: "http_latency_ms",
        bad: "increase",
        tolerance: { absolute: 50 },
        ...(o.latencyCritical === false ? { critical: false } : {}),
      },
    ],
    source: {
      prometheus: { url, ...(o.timeout ? { timeout: o.timeout } : {}) },
      series: {
        http_requests:
          'sum(increase(http_requests_total{deployment="{{deployment}}",cohort="{{cohort}}"}[{{slice}}]))',
        http_errors:
          'sum(increase(http_requests_total{deployment="{{deployment}}",cohort="{{cohort}}",code="500"}[{{slice}}]))',
        http_latency_ms:
          'sum by (le) (increase(http_latency_ms_bucket{deployment="{{deployment}}",cohort="{{cohort}}"}[{{slice}}]))',
      },
    },
  };
}
