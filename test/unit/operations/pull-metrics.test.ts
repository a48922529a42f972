import { afterAll, describe, expect, it } from "vitest";
import { runTick } from "../../../mcp-server/controller/tick-pass.js";
import { listAudit } from "../../../mcp-server/ledger/audit.js";
import { loadSlices } from "../../../mcp-server/ledger/slices.js";
import { closeSharedProviders } from "../../../mcp-server/metrics/index.js";
import { decide } from "../../../mcp-server/operations/decide.js";
import {
  cohortLabels,
  providerErrorsOf,
  pullMetrics,
  sourceErrorsOf,
  sourceSeries,
} from "../../../mcp-server/operations/pull-metrics.js";
import { recordMetrics } from "../../../mcp-server/operations/record-metrics.js";
import { rollback } from "../../../mcp-server/operations/rollback.js";
import {
  type ApiCall,
  apiError,
  matrix,
  prometheusApiStandIn,
  sampleTimes,
} from "../../support/prometheus-api.js";
import { busyPolicy, iso, MIN, operationsContext, start, T0 } from "./harness.js";

// The pull path through the real provider and HTTP client, against a stand-in Prometheus API
// (the real Prometheus runs in test/integration/prometheus-source.test.ts).

afterAll(closeSharedProviders);

const QUERY = /^(\w+)\{cohort="([^"]+)"/;

/** Answers every query with `value(series, cohort, sliceStart)` per slice (undefined: no series). */
async function source(
  value: (metric: string, cohort: string, t: number) => number | undefined = (m) =>
    m === "requests" ? 100 : 1,
) {
  return prometheusApiStandIn((call) => {
    const [, metric, cohort] = QUERY.exec(call.params.get("query") ?? "") ?? [];
    const values: [number, string][] = [];
    for (const ts of sampleTimes(call)) {
      const v = value(metric!, cohort!, ts * 1000 - 60_000);
      if (v !== undefined) values.push([ts, String(v)]);
    }
    return matrix(values.length ? [{ metric: {}, values }] : []);
  });
}

function pulledPolicy(
  url: string,
  extra: Record<string, unknown> = {},
  sourceExtra: Record<string, unknown> = {},
) {
  return busyPolicy({
    source: {
      prometheus: { url, timeout: "2s" },
      series: { http_requests: 'requests{cohort="{{cohort}}"}', http_errors: 'errors{cohort="{{cohort}}"}' },
      ...sourceExtra,
    },
    ...extra,
  });
}

const ranges = (calls: ApiCall[]) =>
  calls
    .filter((c) => c.path === "/api/v1/query_range")
    .map(
      (c) =>
        `${c.params.get("query")} ${Number(c.params.get("start")) * 1000 - T0} ${Number(c.params.get("end")) * 1000 - T0}`,
    )
    .sort();

describe("pullMetrics: complete slices not yet stored, validated like record_metrics", () => {
  it("fetches each series for each cohort up to the last complete slice, stores and audits them", async () => {
    const prom = await source();
    const ctx = await operationsContext();
    start(ctx, "d1", pulledPolicy(prom.url));
    const out = await pullMetrics(ctx, "d1", { at: iso(T0 + 10 * MIN) });
    // lag 1m: the slice [8m, 9m) is the last complete one at 10m.
    expect(out).toEqual({
      deployment_id: "d1",
      pulled: true,
      requests: 4,
      series_stored: 36,
      through: iso(T0 + 9 * MIN),
      errors: [],
    });
    expect(ranges(prom.calls)).toEqual([
      `errors{cohort="canary"} ${MIN} ${9 * MIN}`,
      `errors{cohort="control"} ${MIN} ${9 * MIN}`,
      `requests{cohort="canary"} ${MIN} ${9 * MIN}`,
      `requests{cohort="control"} ${MIN} ${9 * MIN}`,
    ]);
    expect(prom.calls[0]!.params.get("step")).toBe("60");
    const stored = loadSlices(ctx.ledger, "d1");
    expect(stored).toHaveLength(18);
    expect(stored[0]!.counters).toEqual({ http_requests: 100, http_errors: 1 });
    const entry = listAudit(ctx.ledger, { deploymentId: "d1" }).at(-1)!;
    expect(entry).toMatchObject({ action: "pull_metrics", at: iso(T0 + 10 * MIN) });
    expect(entry.details).toEqual({ series: 36, from: T0, to: T0 + 9 * MIN });

    // The next look asks only for what is new.
    prom.calls.length = 0;
    const next = await pullMetrics(ctx, "d1", { at: iso(T0 + 12 * MIN) });
    expect(next).toMatchObject({ series_stored: 8, through: iso(T0 + 11 * MIN) });
    expect(ranges(prom.calls)[0]).toBe(`errors{cohort="canary"} ${10 * MIN} ${11 * MIN}`);
    // Nothing new yet: no request at all.
    prom.calls.length = 0;
    expect(await pullMetrics(ctx, "d1", { at: iso(T0 + 12 * MIN + 30_000) })).toMatchObject({
      requests: 0,
      series_stored: 0,
    });
    expect(prom.calls).toEqual([]);
    await prom.close();
  });

  it("points the source sends again for stored slices are not stored twice", async () => {
    const prom = await prometheusApiStandIn(() =>
      matrix([
        {
          metric: {},
          values: [
            [(T0 + MIN) / 1000, "100"],
            [(T0 + 2 * MIN) / 1000, "100"],
          ],
        },
      ]),
    );
    const ctx = await operationsContext();
    start(ctx, "d1", pulledPolicy(prom.url));
    expect((await pullMetrics(ctx, "d1", { at: iso(T0 + 4 * MIN) })).series_stored).toBe(8);
    // The stand-in keeps answering the first two slices, which are stored already.
    expect((await pullMetrics(ctx, "d1", { at: iso(T0 + 6 * MIN) })).series_stored).toBe(0);
    expect(
      listAudit(ctx.ledger, { deploymentId: "d1" }).filter((e) => e.action === "pull_metrics"),
    ).toHaveLength(1);
    await prom.close();
  });

  it("a long-running deployment asks for at most 10 000 slices per series", async () => {
    const prom = await source(() => undefined);
    const ctx = await operationsContext();
    start(ctx, "d1", pulledPolicy(prom.url));
    const out = await pullMetrics(ctx, "d1", { at: iso(T0 + 20_002 * MIN) });
    expect(out).toMatchObject({ requests: 4, series_stored: 0, through: iso(T0 + 20_001 * MIN) });
    const [call] = prom.calls;
    const from = Number(call!.params.get("start")) * 1000 - MIN;
    const to = Number(call!.params.get("end")) * 1000 - MIN;
    expect((to - from) / MIN + 1).toBe(10_000);
    expect(to).toBe(T0 + 20_000 * MIN);
    await prom.close();
  });

  it("a policy without a source, or an ended deployment, pulls nothing", async () => {
    const prom = await source();
    const ctx = await operationsContext();
    start(ctx, "pushed");
    start(ctx, "ended", pulledPolicy(prom.url, { service: "other" }));
    rollback(ctx, { deployment_id: "ended", reason: "pager: errors", at: iso(T0 + MIN) });
    const none = { pulled: false, requests: 0, series_stored: 0, through: null, errors: [] };
    expect(await pullMetrics(ctx, "pushed", { at: iso(T0 + 5 * MIN) })).toEqual({
      deployment_id: "pushed",
      ...none,
    });
    expect(await pullMetrics(ctx, "ended", { at: iso(T0 + 5 * MIN) })).toEqual({
      deployment_id: "ended",
      ...none,
    });
    expect((await runTick(ctx, { at: iso(T0 + 5 * MIN) })).actions.map((a) => a.deployment_id)).toEqual([
      "pushed",
    ]);
    expect(prom.calls).toEqual([]);
    await prom.close();
  });

  it("tick pulls every active deployment with a source, and judges what it stored", async () => {
    const prom = await source((m, cohort) => (m === "requests" ? 400 : cohort === "canary" ? 80 : 4));
    const ctx = await operationsContext();
    start(ctx, "a", pulledPolicy(prom.url, { service: "svc-a" }));
    start(ctx, "b", busyPolicy({ service: "svc-b" }));
    const tick = await runTick(ctx, { at: iso(T0 + 6 * MIN) });
    expect(tick.actions.map((a) => [a.deployment_id, a.action])).toEqual([
      ["a", "rolled_back"],
      ["b", "decided"],
    ]);
    await prom.close();
  });
});

describe("pullMetrics for histograms and around a rollback", () => {
  it("a histogram metric's series is fetched as le buckets and stored as a histogram", async () => {
    const prom = await prometheusApiStandIn((call) => {
      const q = call.params.get("query") ?? "";
      const times = sampleTimes(call);
      if (!q.startsWith("latency"))
        return matrix([{ metric: {}, values: times.map((ts) => [ts, "100"] as [number, string]) }]);
      return matrix(
        [
          ["50", "60"],
          ["100", "90"],
          ["+Inf", "100"],
        ].map(([le, v]) => ({
          metric: { le: le! },
          values: times.map((ts) => [ts, v!] as [number, string]),
        })),
      );
    });
    const ctx = await operationsContext();
    start(
      ctx,
      "d1",
      pulledPolicy(
        prom.url,
        {
          metrics: [
            {
              name: "latency",
              type: "histogram",
              series: "latency",
              percentiles: [90],
              bad: "increase",
              tolerance: { relative: 0.2 },
            },
          ],
        },
        { series: { latency: 'latency{cohort="{{cohort}}"}' } },
      ),
    );
    const out = await pullMetrics(ctx, "d1", { at: iso(T0 + 3 * MIN) });
    expect(out.errors).toEqual([]);
    expect(out.series_stored).toBe(4);
    const [s] = loadSlices(ctx.ledger, "d1");
    expect(s!.histograms).toEqual({ latency: { bounds: [50, 100], counts: [60, 30, 10] } });
    await prom.close();
  });

  it("a rollback while the source was asked stores nothing", async () => {
    const ctx = await operationsContext();
    let rolledBack = false;
    const prom = await prometheusApiStandIn((call) => {
      if (!rolledBack) {
        rolledBack = true;
        rollback(ctx, { deployment_id: "d1", reason: "pager: errors", at: iso(T0 + 4 * MIN) });
      }
      return matrix([{ metric: {}, values: sampleTimes(call).map((ts) => [ts, "100"] as [number, string]) }]);
    });
    start(ctx, "d1", pulledPolicy(prom.url));
    const out = await pullMetrics(ctx, "d1", { at: iso(T0 + 5 * MIN) });
    expect(out).toMatchObject({ pulled: true, series_stored: 0 });
    expect(loadSlices(ctx.ledger, "d1")).toEqual([]);
    await prom.close();
  });
});

describe("pullMetrics failures become provider errors for the next decide", () => {
  it("a refused query fails its series alone; the decide after it holds on provider_error", async () => {
    const prom = await prometheusApiStandIn((call) => {
      const q = call.params.get("query") ?? "";
      if (q.startsWith("errors")) return apiError(400, "bad_data", "parse error at char 7");
      return matrix([{ metric: {}, values: sampleTimes(call).map((ts) => [ts, "100"] as [number, string]) }]);
    });
    const ctx = await operationsContext();
    start(ctx, "d1", pulledPolicy(prom.url));
    const out = await pullMetrics(ctx, "d1", { at: iso(T0 + 5 * MIN) });
    expect(out.series_stored).toBe(8);
    expect(out.errors.map((e) => [e.series, e.cohort, e.cause])).toEqual([
      ["http_errors", "canary", "bad_query"],
      ["http_errors", "control", "bad_query"],
    ]);
    expect(out.errors[0]!.message).toMatch(
      /^the query was refused \(HTTP 400, bad_data: parse error at char 7\)/,
    );
    // One error per series for the look, naming the cohorts that failed.
    const errors = sourceErrorsOf(out);
    expect(errors.map((e) => e.series)).toEqual(["http_errors"]);
    expect(errors[0]!.message).toMatch(/^canary and control: the query was refused/);
    const dec = decide(ctx, { deployment_id: "d1", at: iso(T0 + 5 * MIN) }, errors);
    expect(dec.verdict).toBe("hold");
    expect(dec.reason_codes).toContain("provider_error");
    const reason = dec.reasons.find((r) => r.startsWith("http_errors: the metric source failed"))!;
    expect(reason).toMatch(
      /^http_errors: the metric source failed \(canary and control: the query was refused/,
    );
    // The errors belong to that look: a later decide without them does not hold on them.
    const later = decide(ctx, { deployment_id: "d1", at: iso(T0 + 6 * MIN) });
    expect(later.reason_codes).not.toContain("provider_error");
    expect(later.reason_codes.length).toBeGreaterThan(0);
    await prom.close();
  });

  it("a source that answers again clears the errors it left", async () => {
    let failing = true;
    const prom = await prometheusApiStandIn((call) =>
      failing
        ? apiError(422, "execution", "query timed out")
        : matrix([{ metric: {}, values: sampleTimes(call).map((ts) => [ts, "100"] as [number, string]) }]),
    );
    const ctx = await operationsContext();
    start(ctx, "d1", pulledPolicy(prom.url));
    const failed = await pullMetrics(ctx, "d1", { at: iso(T0 + 5 * MIN) });
    expect(failed.errors.map((e) => e.cause)).toEqual([
      "query_error",
      "query_error",
      "query_error",
      "query_error",
    ]);
    failing = false;
    const answered = await pullMetrics(ctx, "d1", { at: iso(T0 + 6 * MIN) });
    expect(answered.errors).toEqual([]);
    expect(sourceErrorsOf(answered)).toEqual([]);
    await prom.close();
  });

  it("max_errors consecutive failed looks roll back when on_source_error says so", async () => {
    const prom = await prometheusApiStandIn(() => apiError(422, "execution", "query timed out"));
    const ctx = await operationsContext();
    start(
      ctx,
      "d1",
      pulledPolicy(prom.url, { on_source_error: "rollback", check_every: "1m" }, { max_errors: 2 }),
    );
    const first = await runTick(ctx, { deployment_id: "d1", at: iso(T0 + 3 * MIN) });
    expect(first.actions[0]).toMatchObject({ action: "decided", verdict: "hold" });
    const second = await runTick(ctx, { deployment_id: "d1", at: iso(T0 + 4 * MIN) });
    expect(second.actions[0]).toMatchObject({ action: "rolled_back", verdict: "rollback" });
    expect(second.actions[0]!.reason_codes).toContain("provider_error");
    await prom.close();
  });

  it("fetched slices the ledger refuses fail that series with the reason", async () => {
    const prom = await source();
    const ctx = await operationsContext();
    start(ctx, "d1", pulledPolicy(prom.url));
    // Requests were pushed by segment; the source's whole-cohort values cannot join them.
    recordMetrics(ctx, {
      deployment_id: "d1",
      slices: [{ t: iso(T0), cohort: "canary", dims: { region: "eu" }, counters: { http_requests: 5 } }],
    });
    const out = await pullMetrics(ctx, "d1", { at: iso(T0 + 4 * MIN) });
    const refused = out.errors.filter((e) => e.cause === "bad_value");
    expect(refused.map((e) => [e.series, e.cohort])).toEqual([
      ["http_requests", "canary"],
      ["http_requests", "control"],
    ]);
    expect(refused[0]!.message).toMatch(
      /^the fetched slices were refused: series http_requests is already stored by segment/,
    );
    // The other series were stored.
    expect(out.series_stored).toBe(6);
    await prom.close();
  });
});

describe("what a source is asked", () => {
  it("cohort labels default to canary and control; excluded is fetched only when named", () => {
    const policy = (cohorts?: Record<string, string>) =>
      ({ source: cohorts ? { cohorts } : {} }) as unknown as Parameters<typeof cohortLabels>[0];
    expect(cohortLabels(policy())).toEqual([
      ["canary", "canary"],
      ["control", "control"],
    ]);
    expect(cohortLabels(policy({ canary: "v2", control: "v1", excluded: "rest" }))).toEqual([
      ["canary", "v2"],
      ["control", "v1"],
      ["excluded", "rest"],
    ]);
  });

  it("series are asked in name order, histograms as histograms", () => {
    const policy = {
      metrics: [{ type: "histogram", series: "latency" }, { type: "ratio" }],
      source: { series: { latency: "l", b_requests: "r", a_errors: "e" } },
    } as unknown as Parameters<typeof sourceSeries>[0];
    expect(sourceSeries(policy)).toEqual([
      { series: "a_errors", kind: "counter", query: "e" },
      { series: "b_requests", kind: "counter", query: "r" },
      { series: "latency", kind: "histogram", query: "l" },
    ]);
  });

  it("a decision's provider errors are read back from its reasons", () => {
    expect(
      providerErrorsOf([
        {
          code: "provider_error",
          message:
            "http_errors: the metric source failed (canary: HTTP 500 (x)); never a pass: ends when the source answers again",
        },
        { code: "no_data", message: "x: the metric source failed (y); never a pass" },
        { code: "provider_error", message: "unparseable" },
      ]),
    ).toEqual([{ series: "http_errors", message: "canary: HTTP 500 (x)" }]);
  });
});
