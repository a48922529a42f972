import { join } from "node:path";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tempDir } from "../support/cli.js";
import { call, connectCanary, errorText } from "../support/mcp-client.js";
import { cohortSlices, familiesFromSlices, openMetrics } from "../support/prom-fixture.js";
import { type RunningServer, startPrometheus } from "../support/prometheus.js";

// The MCP tools over stdio with a Prometheus source: discovery, pre-flight, and compare/decide
// pulling on their own (no record_metrics call), against a real Prometheus.

const MIN = 60_000;
const T0 = Date.parse("2025-03-03T10:00:00Z");
let prom: RunningServer;
let client: Client;

const q = (extra = "") =>
  `sum(increase(http_requests_total{deployment="{{vars.label}}",cohort="{{cohort}}"${extra}}[{{slice}}]))`;

function policy(url: string) {
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
    source: { prometheus: { url }, series: { http_requests: q(), http_errors: q(',code="500"') } },
  };
}

beforeAll(async () => {
  const from = T0 - 30 * MIN;
  const cohorts = (["canary", "control"] as const).map((cohort) => ({
    labels: { deployment: "checkout-7", cohort, service: "checkout" },
    slices: cohortSlices({
      cohort,
      from,
      count: 60,
      sliceMs: MIN,
      requests: () => (cohort === "canary" ? 1000 : 9000),
      errorRate: 0.01,
      slowShare: 0,
    }),
  }));
  prom = await startPrometheus({ openmetrics: openMetrics(familiesFromSlices(cohorts, MIN)) });
  client = await connectCanary({ ledger: join(tempDir(), "ledger.db"), clock: "manual" });
}, 60_000);

afterAll(async () => {
  await client?.close();
  await prom?.stop();
});

describe("MCP tools with a Prometheus source", () => {
  it("explore_metrics and check_source see what exists", async () => {
    const explored = await call(client, "explore_metrics", {
      url: prom.url,
      service: "checkout",
      at: new Date(T0).toISOString(),
    });
    expect(explored.isError, errorText(explored)).toBeFalsy();
    const e = explored.structuredContent as {
      matched_by: string[];
      metrics: { name: string; type: string | null }[];
    };
    expect(e.matched_by).toContain("service");
    expect(e.metrics.map((m) => m.name)).toContain("http_requests_total");
    const checked = await call(client, "check_source", {
      policy: policy(prom.url),
      vars: { label: "checkout-7" },
      at: new Date(T0).toISOString(),
    });
    expect(checked.isError, errorText(checked)).toBeFalsy();
    expect((checked.structuredContent as { ok: boolean }).ok).toBe(true);
  });

  it("start_deployment refuses a missing variable, then warns with the pre-flight; compare and decide pull", async () => {
    const missing = await call(client, "start_deployment", {
      deployment_id: "checkout-7",
      policy: policy(prom.url),
      at: new Date(T0).toISOString(),
    });
    expect(missing.isError).toBe(true);
    expect(errorText(missing)).toMatch(/vars\.label: .*pass it in vars/);
    const started = await call(client, "start_deployment", {
      deployment_id: "checkout-7",
      policy: policy(prom.url),
      vars: { label: "checkout-7" },
      at: new Date(T0).toISOString(),
    });
    expect(started.isError, errorText(started)).toBeFalsy();
    expect((started.structuredContent as { source_check: { ok: boolean } }).source_check.ok).toBe(true);
    const report = await call(client, "compare_metrics", {
      deployment_id: "checkout-7",
      at: new Date(T0 + 12 * MIN).toISOString(),
    });
    expect(report.isError, errorText(report)).toBeFalsy();
    const rows = (report.structuredContent as { rows: { metric: string; canary: number | null }[] }).rows;
    expect(rows.find((r) => r.metric === "error_rate")?.canary).not.toBeNull();
    const decided = await call(client, "decide", {
      deployment_id: "checkout-7",
      at: new Date(T0 + 12 * MIN).toISOString(),
    });
    expect(decided.isError, errorText(decided)).toBeFalsy();
    const codes = (decided.structuredContent as { reason_codes: string[] }).reason_codes;
    expect(codes).not.toContain("no_data");
    expect(codes).not.toContain("provider_error");
    const audit = await call(client, "audit_log", { deployment_id: "checkout-7" });
    const actions = (audit.structuredContent as { entries: { action: string }[] }).entries.map(
      (x) => x.action,
    );
    expect(actions).toContain("pull_metrics");
    expect(actions).not.toContain("record_metrics");
  });
});
