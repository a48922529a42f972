import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import type { IncomingHttpHeaders } from "node:http";
import { createServer } from "node:https";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { policySchema } from "../../mcp-server/core/policy/schema.js";
import { listAudit } from "../../mcp-server/ledger/audit.js";
import { createProvider } from "../../mcp-server/metrics/index.js";
import { pullMetrics, sourceSeries } from "../../mcp-server/operations/pull-metrics.js";
import { tempDir } from "../support/cli.js";
import { MIN, manualContext, start } from "../support/pull-harness.js";

// Auth and tenancy from the environment, https with a CA file, and secrets kept out of every
// output: a local https endpoint speaking the query_range API checks the headers it gets.

const T0 = Date.parse("2025-03-03T10:00:00Z");
const TOKEN = "s3cr3t-token-value-1234";
const PASSWORD = "hunter2-password-5678";
let url = "";
let caFile = "";
const seen: IncomingHttpHeaders[] = [];
let close: () => void = () => {};

beforeAll(async () => {
  const dir = tempDir("canary-tls-");
  const key = join(dir, "key.pem");
  caFile = join(dir, "cert.pem");
  const r = spawnSync(
    "openssl",
    [
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-keyout",
      key,
      "-out",
      caFile,
      "-days",
      "2",
      "-subj",
      "/CN=127.0.0.1",
      "-addext",
      "subjectAltName=IP:127.0.0.1",
    ],
    { encoding: "utf8" },
  );
  if (r.status !== 0) throw new Error(`openssl failed: ${r.stderr}`);
  const server = createServer({ key: readFileSync(key), cert: readFileSync(caFile) }, (req, res) => {
    seen.push(req.headers);
    const ok =
      req.headers.authorization === `Bearer ${TOKEN}` ||
      req.headers.authorization === `Basic ${Buffer.from(`reader:${PASSWORD}`).toString("base64")}`;
    if (!ok || req.headers["x-scope-orgid"] !== "team-a") {
      res.writeHead(401, { "content-type": "text/plain" });
      res.end("no org id or bad credentials");
      return;
    }
    let body = "";
    req.on("data", (c: Buffer) => {
      body += c.toString();
    });
    req.on("end", () => {
      const form = new URLSearchParams(body);
      const start = Number(form.get("start"));
      const end = Number(form.get("end"));
      const values: [number, string][] = [];
      for (let t = start; t <= end; t += 60) values.push([t, "10"]);
      res.writeHead(200, { "content-type": "application/json" });
      res.end(
        JSON.stringify({
          status: "success",
          data: { resultType: "matrix", result: [{ metric: {}, values }] },
        }),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const addr = server.address();
  url = `https://127.0.0.1:${typeof addr === "object" && addr ? addr.port : 0}`;
  close = () => server.close();
});

afterAll(() => close());

function policy(prometheus: Record<string, unknown>) {
  return {
    service: "checkout",
    slice: "1m",
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
    ],
    source: {
      prometheus,
      series: { http_requests: 'sum(r{c="{{cohort}}"})', http_errors: 'sum(e{c="{{cohort}}"})' },
    },
  };
}

describe("Prometheus source auth, tenancy and TLS", () => {
  it("sends the bearer token from token_env and the tenancy header over https with the CA file", async () => {
    process.env.CANARY_TEST_PROM_TOKEN = TOKEN;
    const ctx = await manualContext();
    start(
      ctx,
      "auth-1",
      policy({
        url,
        token_env: "CANARY_TEST_PROM_TOKEN",
        headers: { "X-Scope-OrgID": "team-a" },
        ca_file: caFile,
      }),
      T0,
    );
    const out = await pullMetrics(ctx, "auth-1", { at: new Date(T0 + 10 * MIN).toISOString() });
    expect(out.errors).toEqual([]);
    expect(out.series_stored).toBe(2 * 2 * 9);
    expect(seen.at(-1)?.["x-scope-orgid"]).toBe("team-a");
  });

  it("uses basic auth from basic_auth_env", async () => {
    process.env.CANARY_TEST_PROM_USER = "reader";
    process.env.CANARY_TEST_PROM_PASSWORD = PASSWORD;
    const source = policySchema.parse(
      policy({
        url,
        basic_auth_env: { user: "CANARY_TEST_PROM_USER", password: "CANARY_TEST_PROM_PASSWORD" },
        headers: { "X-Scope-OrgID": "team-a" },
        ca_file: caFile,
      }),
    ).source!;
    const p = createProvider(source);
    const q = sourceSeries(policySchema.parse(policy({ url }))).find((s) => s.series === "http_requests")!;
    const r = await p.fetchSeries({ ...q, cohort: "canary", from: T0, to: T0 + 2 * MIN, step: MIN });
    await p.close();
    expect(r.ok).toBe(true);
  });

  it("keeps secrets out of errors, reports and the ledger; an untrusted certificate or wrong token is a provider error", async () => {
    process.env.CANARY_TEST_PROM_TOKEN = "wrong-but-secret-token-999";
    const ctx = await manualContext();
    start(
      ctx,
      "auth-2",
      policy({
        url,
        token_env: "CANARY_TEST_PROM_TOKEN",
        headers: { "X-Scope-OrgID": "team-a" },
        ca_file: caFile,
      }),
      T0,
    );
    const out = await pullMetrics(ctx, "auth-2", { at: new Date(T0 + 10 * MIN).toISOString() });
    expect(out.errors.map((e) => e.cause)).toEqual(["http_error", "http_error", "http_error", "http_error"]);
    expect(out.errors[0]?.message).toMatch(/HTTP 401 .*token_env or basic_auth_env/);
    const noCa = await manualContext();
    start(noCa, "auth-3", policy({ url, token_env: "CANARY_TEST_PROM_TOKEN" }), T0);
    const tls = await pullMetrics(noCa, "auth-3", { at: new Date(T0 + 10 * MIN).toISOString() });
    expect(tls.errors[0]?.cause).toBe("unreachable");
    delete process.env.CANARY_TEST_PROM_TOKEN;
    const unset = await pullMetrics(noCa, "auth-3", { at: new Date(T0 + 10 * MIN).toISOString() });
    expect(unset.errors[0]?.message).toMatch(/environment variable CANARY_TEST_PROM_TOKEN .* is not set/);
    const everything =
      JSON.stringify([out, tls, unset]) + JSON.stringify(listAudit(ctx.ledger, { limit: 10_000 }));
    for (const secret of [TOKEN, PASSWORD, "wrong-but-secret-token-999"])
      expect(everything).not.toContain(secret);
  });
});
