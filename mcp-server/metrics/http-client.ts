import { readFileSync } from "node:fs";
import type { Agent } from "undici";
import { durationMs } from "../core/duration.js";
import type { SourcePolicy } from "../core/policy/schema.js";

// The HTTP side of the Prometheus provider: keep-alive connections, a per-request timeout,
// bounded retries with backoff for transient failures, a cap on requests in flight, and auth
// read from the environment at request time. Secrets go into headers only: never into a
// message, an error or a log line.

export interface HttpResponse {
  status: number;
  body: string;
}

/** What the provider needs from HTTP; tests and benchmarks may inject their own. */
export interface HttpClient {
  /** POSTs a form to `path` under the source's URL; throws HttpFailure on transport problems. */
  postForm(path: string, form: Record<string, string>): Promise<HttpResponse>;
  /** GETs `path` with query parameters (repeated keys allowed). */
  get(path: string, params: [string, string][]): Promise<HttpResponse>;
  /** Requests sent, retries included. */
  readonly requests: number;
  close(): Promise<void>;
}

export class HttpFailure extends Error {
  constructor(
    readonly kind: "unreachable" | "timeout" | "config",
    message: string,
  ) {
    super(message);
  }
}

export interface HttpClientOptions {
  env?: NodeJS.ProcessEnv;
  /** Requests in flight at once (default 16). */
  concurrency?: number;
  /** Attempts per request for transient failures (default 3). */
  attempts?: number;
  /** First backoff (ms), doubled per retry (default 200). */
  backoffMs?: number;
}

type Prom = SourcePolicy["prometheus"];

/** Auth and tenancy headers from the environment; a missing variable is a config failure naming it. */
export function authHeaders(prom: Prom, env: NodeJS.ProcessEnv): Record<string, string> {
  const headers: Record<string, string> = { ...(prom.headers ?? {}) };
  if (prom.token_env) {
    const token = env[prom.token_env];
    if (!token)
      throw new HttpFailure(
        "config",
        `environment variable ${prom.token_env} (source.prometheus.token_env) is not set; export the bearer token in it`,
      );
    headers.authorization = `Bearer ${token}`;
  }
  if (prom.basic_auth_env) {
    const { user, password } = prom.basic_auth_env;
    const u = env[user];
    const p = env[password];
    if (u === undefined || p === undefined)
      throw new HttpFailure(
        "config",
        `environment variable ${u === undefined ? user : password} (source.prometheus.basic_auth_env) is not set`,
      );
    headers.authorization = `Basic ${Buffer.from(`${u}:${p}`).toString("base64")}`;
  }
  return headers;
}

function transient(status: number): boolean {
  return status === 429 || status === 502 || status === 503 || status === 504;
}

/** Names a transport error without echoing anything from the request. */
function describe(error: unknown): { cause: "unreachable" | "timeout"; text: string } {
  const code = error && typeof error === "object" && "code" in error ? String(error.code) : "";
  if (/TIMEOUT|ABORT/i.test(code) || (error instanceof Error && error.name === "TimeoutError"))
    return { cause: "timeout", text: `no answer within the timeout (${code || "timeout"})` };
  return {
    cause: "unreachable",
    text: `cannot connect (${code || (error instanceof Error ? error.name : "error")})`,
  };
}

export function createHttpClient(prom: Prom, options: HttpClientOptions = {}): HttpClient {
  const env = options.env ?? process.env;
  const timeout = durationMs(prom.timeout);
  const attempts = options.attempts ?? 3;
  const backoff = options.backoffMs ?? 200;
  const cap = options.concurrency ?? 16;
  let ca: string | undefined;
  if (prom.ca_file) {
    try {
      ca = readFileSync(prom.ca_file, "utf8");
    } catch {
      throw new HttpFailure(
        "config",
        `cannot read source.prometheus.ca_file ${JSON.stringify(prom.ca_file)}; give a readable PEM file`,
      );
    }
  }
  // undici loads on the first request: commands that never pull do not pay for it at startup.
  let client: Promise<{ agent: Agent; request: typeof import("undici").request }> | undefined;
  const undici = () => {
    client ??= import("undici").then(({ Agent, request }) => ({
      request,
      agent: new Agent({
        connections: cap,
        keepAliveTimeout: 30_000,
        headersTimeout: timeout,
        bodyTimeout: timeout,
        connect: ca ? { ca, timeout } : { timeout },
      }),
    }));
    return client;
  };
  const base = prom.url.replace(/\/+$/, "");
  let inFlight = 0;
  const waiting: (() => void)[] = [];
  let sent = 0;

  async function slot<T>(fn: () => Promise<T>): Promise<T> {
    if (inFlight >= cap) await new Promise<void>((r) => waiting.push(r));
    inFlight++;
    try {
      return await fn();
    } finally {
      inFlight--;
      waiting.shift()?.();
    }
  }

  async function send(
    url: string,
    method: "GET" | "POST",
    body: string | undefined,
    extra: Record<string, string>,
  ): Promise<HttpResponse> {
    const headers = { ...authHeaders(prom, env), accept: "application/json", ...extra };
    let last: { cause: "unreachable" | "timeout"; text: string } | undefined;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      if (attempt > 1) await new Promise((r) => setTimeout(r, backoff * 2 ** (attempt - 2)));
      try {
        sent++;
        const { agent, request } = await undici();
        const res = await slot(() =>
          request(url, {
            method,
            headers,
            body,
            dispatcher: agent,
            signal: AbortSignal.timeout(timeout),
          }),
        );
        const text = await res.body.text();
        if (transient(res.statusCode) && attempt < attempts) continue;
        return { status: res.statusCode, body: text };
      } catch (error) {
        last = describe(error);
        // A timeout already waited the whole budget: retrying it would multiply the wait.
        if (last.cause === "timeout") break;
      }
    }
    const what = last ?? { cause: "unreachable" as const, text: "no answer" };
    throw new HttpFailure(
      what.cause,
      `${what.text} after ${attempts} attempt(s) to ${base}; check that the server runs and source.prometheus.url${what.cause === "timeout" ? ` (or raise source.prometheus.timeout, now ${prom.timeout})` : ""}`,
    );
  }

  return {
    get requests() {
      return sent;
    },
    postForm(path, form) {
      return send(`${base}${path}`, "POST", new URLSearchParams(form).toString(), {
        "content-type": "application/x-www-form-urlencoded",
      });
    },
    get(path, params) {
      const qs = new URLSearchParams(params).toString();
      return send(`${base}${path}${qs ? `?${qs}` : ""}`, "GET", undefined, {});
    },
    close: async () => {
      if (client) await (await client).agent.close();
    },
  };
}
