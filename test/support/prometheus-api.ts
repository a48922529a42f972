import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

// A stand-in for the Prometheus HTTP API on a real loopback socket: each call (GET query string
// or POST form) goes to the test's `answer`, which returns the status and JSON body. It lets
// unit tests (and the mutation suite) drive the real provider, HTTP client and operations through
// every answer shape in milliseconds; the real Prometheus is exercised in test/integration.

export interface ApiCall {
  path: string;
  params: URLSearchParams;
}

export interface ApiReply {
  status?: number;
  body: unknown;
}

export interface PrometheusApiStandIn {
  url: string;
  calls: ApiCall[];
  close(): Promise<void>;
}

export async function prometheusApiStandIn(
  answer: (call: ApiCall) => ApiReply,
): Promise<PrometheusApiStandIn> {
  const calls: ApiCall[] = [];
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk: Buffer) => {
      body += chunk.toString("utf8");
    });
    req.on("end", () => {
      const url = new URL(req.url ?? "/", "http://stand-in");
      const params = new URLSearchParams(url.search);
      for (const [k, v] of new URLSearchParams(body)) params.append(k, v);
      const call = { path: url.pathname, params };
      calls.push(call);
      let reply: ApiReply;
      try {
        reply = answer(call);
      } catch (error) {
        reply = { status: 500, body: { status: "error", errorType: "internal", error: String(error) } };
      }
      res.writeHead(reply.status ?? 200, { "content-type": "application/json" });
      res.end(JSON.stringify(reply.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A query_range answer: one entry per series, each with its [seconds, "value"] samples. */
export function matrix(result: { metric: Record<string, string>; values: [number, string][] }[]): ApiReply {
  return { body: { status: "success", data: { resultType: "matrix", result } } };
}

/** The sample times (seconds) a query_range call asks for. */
export function sampleTimes(call: ApiCall): number[] {
  const start = Number(call.params.get("start"));
  const end = Number(call.params.get("end"));
  const step = Number(call.params.get("step"));
  const out: number[] = [];
  for (let t = start; t <= end + 1e-9; t += step) out.push(Math.round(t * 1000) / 1000);
  return out;
}

/** An API error body, as Prometheus sends it. */
export function apiError(status: number, errorType: string, error: string): ApiReply {
  return { status, body: { status: "error", errorType, error } };
}
