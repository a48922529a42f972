import { createServer, type Server } from "node:http";
import { createAssigner } from "../../mcp-server/cohort-assigner.js";

// A small real HTTP service under a canary: each request's user is routed with createAssigner at
// the deployment's current percent, the canary variant may be worse, and /metrics exposes
// per-cohort counters and a latency histogram in the Prometheus text format (HELP and TYPE lines
// written by hand) for a real Prometheus to scrape.

export const BOUNDS = [5, 10, 25, 50, 100, 250];

export interface ServiceOptions {
  deploymentId: string;
  /** The deployment's current percent (the service polls it, as a router would). */
  percent: () => number;
  errorRate: { canary: number; control: number };
  latencyMs: { canary: number; control: number };
}

interface CohortStats {
  codes: Map<string, number>;
  buckets: number[];
  count: number;
  sum: number;
}

export interface MetricsService {
  port: number;
  url: string;
  exposition(): string;
  close(): Promise<void>;
}

function esc(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

export async function startMetricsService(o: ServiceOptions): Promise<MetricsService> {
  const assigner = await createAssigner();
  const stats = new Map<string, CohortStats>();
  let draw = 0;
  // Deterministic "randomness": a Weyl sequence, so the error share is exact over many requests.
  const next = () => {
    draw = (draw + 0.6180339887498949) % 1;
    return draw;
  };
  const statsOf = (cohort: string) => {
    let s = stats.get(cohort);
    if (!s) {
      s = { codes: new Map(), buckets: BOUNDS.map(() => 0).concat(0), count: 0, sum: 0 };
      stats.set(cohort, s);
    }
    return s;
  };
  const exposition = () => {
    const lines = [
      "# HELP http_requests_total Requests served, by cohort and status code.",
      "# TYPE http_requests_total counter",
    ];
    for (const [cohort, s] of [...stats].sort())
      for (const [code, n] of [...s.codes].sort())
        lines.push(
          `http_requests_total{deployment="${esc(o.deploymentId)}",cohort="${cohort}",code="${code}"} ${n}`,
        );
    lines.push("# HELP http_latency_ms Request latency in milliseconds.", "# TYPE http_latency_ms histogram");
    for (const [cohort, s] of [...stats].sort()) {
      let cumulative = 0;
      const labels = `deployment="${esc(o.deploymentId)}",cohort="${cohort}"`;
      BOUNDS.forEach((b, i) => {
        cumulative += s.buckets[i]!;
        lines.push(`http_latency_ms_bucket{${labels},le="${b}"} ${cumulative}`);
      });
      cumulative += s.buckets[BOUNDS.length]!;
      lines.push(`http_latency_ms_bucket{${labels},le="+Inf"} ${cumulative}`);
      lines.push(`http_latency_ms_sum{${labels}} ${s.sum}`);
      lines.push(`http_latency_ms_count{${labels}} ${s.count}`);
    }
    return `${lines.join("\n")}\n`;
  };
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    if (url.pathname === "/metrics") {
      res.writeHead(200, { "content-type": "text/plain; version=0.0.4" });
      res.end(exposition());
      return;
    }
    const user = url.searchParams.get("user") ?? "anonymous";
    const { cohort } = assigner.assign({ deploymentId: o.deploymentId, unitId: user, percent: o.percent() });
    const side = cohort === "canary" ? "canary" : "control";
    const failed = next() < o.errorRate[side];
    const latency = o.latencyMs[side] * (0.5 + next());
    const s = statsOf(cohort);
    const code = failed ? "500" : "200";
    s.codes.set(code, (s.codes.get(code) ?? 0) + 1);
    const bucket = BOUNDS.findIndex((b) => latency <= b);
    s.buckets[bucket === -1 ? BOUNDS.length : bucket]!++;
    s.count++;
    s.sum += latency;
    res.writeHead(failed ? 500 : 200, { "content-type": "text/plain" });
    res.end(cohort);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const addr = server.address();
  const port = typeof addr === "object" && addr ? addr.port : 0;
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    exposition,
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** Sends requests from many users at a steady pace until stopped. */
export function startLoad(url: string, perSecond: number): { stop: () => Promise<void> } {
  let running = true;
  let user = 0;
  const loop = (async () => {
    while (running) {
      const started = Date.now();
      await Promise.all(
        Array.from({ length: perSecond / 10 }, () =>
          fetch(`${url}/?user=u${user++}`).then(
            (r) => r.text(),
            () => "",
          ),
        ),
      );
      await new Promise((r) => setTimeout(r, Math.max(0, 100 - (Date.now() - started))));
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
    },
  };
}
