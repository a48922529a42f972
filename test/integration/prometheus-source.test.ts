import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Slice } from "../../mcp-server/core/slice.js";
import { decide } from "../../mcp-server/operations/decide.js";
import { pullMetrics } from "../../mcp-server/operations/pull-metrics.js";
import { recheckDecision } from "../../mcp-server/operations/recheck-decision.js";
import { runCli, tempDir } from "../support/cli.js";
import {
  type CohortTraffic,
  cohortSlices,
  familiesFromSlices,
  openMetrics,
} from "../support/prom-fixture.js";
import { freePort, type RunningServer, startDelayingProxy, startPrometheus } from "../support/prometheus.js";
import {
  decisions,
  type LookRecord,
  MIN,
  manualContext,
  pullLook,
  pushLook,
  sliceValues,
  start,
  storedValues,
} from "../support/pull-harness.js";

// The Prometheus source against a real Prometheus 2.x: fixtures backfilled with promtool with
// counts known exactly. No skip: without prometheus installed this suite fails.

const T0 = Date.parse("2025-03-03T10:00:00Z");
const END = T0 + 60 * MIN;

const Q = {
  requests: 'sum(increase(http_requests_total{deployment="{{deployment}}",cohort="{{cohort}}"}[{{slice}}]))',
  errors:
    'sum(increase(http_requests_total{deployment="{{deployment}}",cohort="{{cohort}}",code=~"5.."}[{{slice}}]))',
  latency:
    'sum by (le) (increase(http_latency_ms_bucket{deployment="{{deployment}}",cohort="{{cohort}}"}[{{slice}}]))',
};

function policy(
  source?: Record<string, unknown>,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    service: "checkout",
    slice: "1m",
    check_every: "5m",
    ladder: [{ percent: 10, window: "10m" }, { percent: 50, window: "10m" }, { percent: 100 }],
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
        percentiles: [50, 90],
        bad: "increase",
        tolerance: { absolute: 50 },
        // Coarse buckets cannot prove a 50 ms margin in minutes: judged, but it does not gate promotion.
        critical: false,
      },
    ],
    ...(source ? { source } : {}),
    ...extra,
  };
}

function promSource(
  url: string,
  series: Partial<Record<keyof typeof Q, string>> = {},
  extra: Record<string, unknown> = {},
) {
  return {
    prometheus: { url, timeout: "2s" },
    series: {
      http_requests: series.requests ?? Q.requests,
      http_errors: series.errors ?? Q.errors,
      http_latency_ms: series.latency ?? Q.latency,
    },
    ...extra,
  };
}

/**
 * Runs a whole ladder on pushed slices, generating traffic that follows the deployment's live
 * percent (looks every 5 minutes, slices pushed once complete after a 1 minute lag), and returns
 * every slice it generated so the same numbers can be backfilled into Prometheus.
 */
async function pushedLadder(id: string, canaryErrorRate: number) {
  const ctx = await manualContext();
  start(ctx, id, policy(), T0);
  const all: Slice[] = [];
  let percent = 10;
  let next = T0; // first slice not yet generated
  const looks: LookRecord[] = [];
  for (let at = T0 + 5 * MIN; at <= END; at += 5 * MIN) {
    const lastComplete = at - 2 * MIN; // t + slice + lag <= at
    const fresh: Slice[] = [];
    for (; next <= lastComplete; next += MIN) {
      const i = (next - T0) / MIN;
      const share = percent / 100;
      for (const cohort of ["canary", "control"] as const) {
        fresh.push(
          ...cohortSlices({
            cohort,
            from: next,
            count: 1,
            sliceMs: MIN,
            requests: () => Math.round(40_000 * (cohort === "canary" ? share : 1 - share)) + ((i * 3) % 7),
            errorRate: cohort === "canary" ? canaryErrorRate : 0.02,
            slowShare: 0.1,
          }),
        );
      }
    }
    all.push(...fresh);
    const look = pushLook(ctx, id, at, fresh);
    looks.push(look);
    percent = look.percent;
    if (look.action === "completed" || look.action === "rolled_back") break;
  }
  // Traffic goes on after the end (the fixture covers the whole hour).
  for (; next < END; next += MIN)
    for (const cohort of ["canary", "control"] as const)
      all.push(
        ...cohortSlices({
          cohort,
          from: next,
          count: 1,
          sliceMs: MIN,
          requests: () => 1000,
          errorRate: cohort === "canary" ? canaryErrorRate : 0.02,
          slowShare: 0.1,
        }),
      );
  return { ctx, slices: all, looks };
}

let prom: RunningServer;
let healthy: Awaited<ReturnType<typeof pushedLadder>>;
let failing: Awaited<ReturnType<typeof pushedLadder>>;
const workloadSlices: Slice[] = [];
const resetSlices: Slice[] = [];

beforeAll(async () => {
  healthy = await pushedLadder("ladder-ok", 0.02);
  failing = await pushedLadder("ladder-bad", 0.06);
  const split = (slices: Slice[], cohort: string) => slices.filter((s) => s.cohort === cohort);
  for (const cohort of ["canary", "control"] as const)
    workloadSlices.push(
      ...cohortSlices({
        cohort,
        from: T0,
        count: 20,
        sliceMs: MIN,
        requests: (i) => 500 + i,
        errorRate: 0.01,
        slowShare: 0.2,
      }),
    );
  for (const cohort of ["canary", "control"] as const)
    resetSlices.push(
      ...cohortSlices({
        cohort,
        from: T0,
        count: 20,
        sliceMs: MIN,
        requests: (i) => 300 + 2 * i,
        errorRate: 0.01,
        slowShare: 0,
      }),
    );
  const families = [
    ...familiesFromSlices(
      ["canary", "control"].flatMap((c): CohortTraffic[] => [
        { labels: { deployment: "ladder-ok", cohort: c }, slices: split(healthy.slices, c) },
        { labels: { deployment: "ladder-bad", cohort: c }, slices: split(failing.slices, c) },
        {
          labels: { namespace: "shop", workload: c === "canary" ? "checkout-v2" : "checkout-v1" },
          slices: split(workloadSlices, c),
        },
      ]),
      MIN,
    ),
  ];
  const resetFamilies = familiesFromSlices(
    ["canary", "control"].map((c) => ({
      labels: { deployment: "restarts", cohort: c },
      slices: split(resetSlices, c),
    })),
    MIN,
    { resetAt: 7 },
  );
  // One family per metric name: merge the reset deployment's series into the same families.
  for (const f of resetFamilies) families.find((g) => g.name === f.name)?.series.push(...f.series);
  prom = await startPrometheus({ openmetrics: openMetrics(families) });
}, 120_000);

afterAll(async () => {
  await prom?.stop();
});

describe("Prometheus source: fetched slices are the fixture's numbers", () => {
  it("stores exactly the backfilled counters and histograms, complete slices only", async () => {
    const ctx = await manualContext();
    start(ctx, "ladder-ok", policy(promSource(prom.url)), T0);
    const at = T0 + 20 * MIN;
    const out = await pullMetrics(ctx, "ladder-ok", { at: new Date(at).toISOString() });
    expect(out.errors).toEqual([]);
    // One request per series and cohort for the whole range, not one per slice.
    expect(out.requests).toBe(6);
    // With lag 1m, the last complete slice at 10:20 is the one starting at 10:18.
    const expected = sliceValues(healthy.slices, at - 2 * MIN);
    expect(storedValues(ctx, "ladder-ok")).toEqual(expected);
    expect(expected.size).toBe(19 * 2 * 3);
    const hist = expected.get(`canary|${new Date(T0).toISOString()}|http_latency_ms`) as { bounds: number[] };
    expect(hist.bounds).toEqual([50, 100, 250, 500]);

    // The next look asks only for the slices not yet stored.
    const again = await pullMetrics(ctx, "ladder-ok", { at: new Date(at).toISOString() });
    expect(again.requests).toBe(0);
    const later = await pullMetrics(ctx, "ladder-ok", { at: new Date(at + 3 * MIN).toISOString() });
    expect(later.requests).toBe(6);
    expect(later.series_stored).toBe(3 * 2 * 3);
  });

  it("gets a counter reset right (increase() handles it)", async () => {
    const ctx = await manualContext();
    start(ctx, "restarts", policy(promSource(prom.url)), T0);
    const at = T0 + 22 * MIN;
    const out = await pullMetrics(ctx, "restarts", { at: new Date(at).toISOString() });
    expect(out.errors).toEqual([]);
    const got = storedValues(ctx, "restarts");
    const want = sliceValues(resetSlices, at - 2 * MIN);
    for (const [k, v] of want) if (!k.endsWith("http_latency_ms")) expect(got.get(k), k).toEqual(v);
    expect(got.get(`canary|${new Date(T0 + 7 * MIN).toISOString()}|http_requests`)).toBe(314);
  });

  it("maps workload-label cohorts through source.cohorts", async () => {
    const ctx = await manualContext();
    const wl = (m: string, extra = "") =>
      `sum(increase(${m}{namespace="shop",workload="{{cohort}}"${extra}}[{{slice}}]))`;
    start(
      ctx,
      "wl-1",
      policy(
        promSource(
          prom.url,
          {
            requests: wl("http_requests_total"),
            errors: wl("http_requests_total", ',code="500"'),
            latency:
              'sum by (le) (increase(http_latency_ms_bucket{namespace="shop",workload="{{cohort}}"}[{{slice}}]))',
          },
          { cohorts: { canary: "checkout-v2", control: "checkout-v1" } },
        ),
      ),
      T0,
    );
    const at = T0 + 21 * MIN;
    const out = await pullMetrics(ctx, "wl-1", { at: new Date(at).toISOString() });
    expect(out.errors).toEqual([]);
    expect(storedValues(ctx, "wl-1")).toEqual(sliceValues(workloadSlices, at - 2 * MIN));
  });

  it("does not use a slice until t + slice + lag has passed", async () => {
    const ctx = await manualContext();
    start(ctx, "ladder-ok", policy(promSource(prom.url, {}, { lag: "2m" })), T0);
    const t = T0 + 5 * MIN;
    // At t + 2m59s the slice starting at t is not complete yet with a 2 minute lag.
    await pullMetrics(ctx, "ladder-ok", { at: new Date(t + 2 * MIN + 59_000).toISOString() });
    expect(storedValues(ctx, "ladder-ok").has(`canary|${new Date(t).toISOString()}|http_requests`)).toBe(
      false,
    );
    await pullMetrics(ctx, "ladder-ok", { at: new Date(t + 3 * MIN).toISOString() });
    expect(storedValues(ctx, "ladder-ok").get(`canary|${new Date(t).toISOString()}|http_requests`)).toBe(
      sliceValues(healthy.slices, t).get(`canary|${new Date(t).toISOString()}|http_requests`),
    );
  });
});

describe("Prometheus source: a whole ladder decides exactly as with pushed data", () => {
  for (const which of ["healthy", "failing"] as const) {
    it(`${which} canary: same verdicts, reasons and inputs hashes, and recheck matches`, async () => {
      const pushed = which === "healthy" ? healthy : failing;
      const id = which === "healthy" ? "ladder-ok" : "ladder-bad";
      const ctx = await manualContext();
      start(ctx, id, policy(promSource(prom.url)), T0);
      const looks: LookRecord[] = [];
      for (const l of pushed.looks) looks.push(await pullLook(ctx, id, Date.parse(l.at)));
      expect(looks).toEqual(pushed.looks);
      expect(decisions(ctx, id)).toEqual(decisions(pushed.ctx, id));
      const last = looks[looks.length - 1]!;
      expect(last.action).toBe(which === "healthy" ? "completed" : "rolled_back");
      for (const d of decisions(ctx, id)) expect(d.verdict).toBeDefined();
      const ids = (await import("../../mcp-server/ledger/decisions.js")).listDecisions(ctx.ledger, id, 100);
      for (const d of ids) {
        expect(recheckDecision(ctx, { decision_id: d.id }).differences).toEqual([]);
      }
    });
  }
});

describe("Prometheus source: failures hold with their own reason and never promote", () => {
  const lateLooks = [15, 20, 25, 30, 35].map((m) => T0 + m * MIN);

  async function run(
    source: Record<string, unknown>,
    id = "ladder-ok",
    vars?: Record<string, string>,
    extra = {},
  ) {
    const ctx = await manualContext();
    start(ctx, id, policy(source, extra), T0, vars);
    const looks: LookRecord[] = [];
    for (const at of lateLooks) looks.push(await pullLook(ctx, id, at));
    const d = (await import("../../mcp-server/ledger/decisions.js")).listDecisions(ctx.ledger, id, 100);
    return { ctx, looks, reasons: d.flatMap((x) => x.reasons.map((r) => `${r.code}: ${r.message}`)) };
  }

  function neverPromotes(looks: LookRecord[]) {
    expect(looks.map((l) => l.verdict)).not.toContain("promote");
    expect(looks.every((l) => l.step === 0)).toBe(true);
  }

  it("an empty series is no_data (never zero)", async () => {
    const { looks, reasons } = await run(promSource(prom.url, { errors: Q.errors.replace("5..", "6..") }));
    neverPromotes(looks);
    expect(looks.every((l) => l.reason_codes.includes("no_data"))).toBe(true);
    expect(reasons.some((r) => r.startsWith("no_data: error_rate"))).toBe(true);
  });

  it("a stopped Prometheus is a provider error naming the series, then on_source_error", async () => {
    const dead = `http://127.0.0.1:${await freePort()}`;
    const { ctx, looks, reasons } = await run(
      promSource(dead, {}, { max_errors: 3 }),
      "ladder-ok",
      undefined,
      {
        on_source_error: "rollback",
      },
    );
    expect(looks.slice(0, 2).map((l) => l.verdict)).toEqual(["hold", "hold"]);
    expect(looks[0]!.reason_codes).toContain("provider_error");
    expect(
      reasons.some((r) =>
        /http_errors: the metric source failed \(canary and control: cannot connect/.test(r),
      ),
    ).toBe(true);
    // The third consecutive failed look reaches max_errors 3: the policy rolls back.
    expect(looks[2]!.action).toBe("rolled_back");
    // Source failures replay too: recheck reads them back from the decisions' reasons.
    const ids = (await import("../../mcp-server/ledger/decisions.js")).listDecisions(
      ctx.ledger,
      "ladder-ok",
      100,
    );
    for (const d of ids) expect(recheckDecision(ctx, { decision_id: d.id }).differences).toEqual([]);
    expect(looks.map((l) => l.verdict)).not.toContain("promote");
  });

  it("a slow Prometheus (a delaying proxy) times out: provider_error, hold", async () => {
    const slow = await startDelayingProxy(prom.url, 3000);
    try {
      const source = promSource(slow.url);
      (source.prometheus as { timeout: string }).timeout = "1s";
      const { looks, reasons } = await run(source);
      neverPromotes(looks);
      expect(looks.every((l) => l.reason_codes.includes("provider_error"))).toBe(true);
      expect(reasons.some((r) => r.includes("no answer within the timeout"))).toBe(true);
    } finally {
      await slow.stop();
    }
  });

  it("a bad query (HTTP 400) is a provider error saying to fix the query", async () => {
    const { looks, reasons } = await run(
      promSource(prom.url, { errors: "no_such_function(http_requests_total)" }),
    );
    neverPromotes(looks);
    expect(reasons.some((r) => /http_errors: .*the query was refused \(HTTP 400, bad_data/.test(r))).toBe(
      true,
    );
  });

  it("several series where one was expected (a missing sum) is a provider error", async () => {
    const { looks, reasons } = await run(
      promSource(prom.url, {
        requests: 'increase(http_requests_total{deployment="{{deployment}}",cohort="{{cohort}}"}[{{slice}}])',
      }),
    );
    neverPromotes(looks);
    expect(
      reasons.some((r) => /http_requests: .*returned 2 series where one was expected .*sum\(/.test(r)),
    ).toBe(true);
  });

  it("NaN and negative increments (offset arithmetic over a restart) are provider errors", async () => {
    const nan = await run(
      promSource(prom.url, {
        errors:
          '(sum(increase(http_requests_total{deployment="{{deployment}}",cohort="{{cohort}}"}[{{slice}}])) * 0) / 0',
      }),
    );
    neverPromotes(nan.looks);
    expect(nan.reasons.some((r) => /http_errors: .*the value is NaN at the slice/.test(r))).toBe(true);
    const offset =
      'sum(http_requests_total{deployment="{{deployment}}",cohort="{{cohort}}"}) - sum(http_requests_total{deployment="{{deployment}}",cohort="{{cohort}}"} offset {{slice}})';
    const negative = await run(promSource(prom.url, { requests: offset }), "restarts");
    neverPromotes(negative.looks);
    expect(
      negative.reasons.some((r) => /http_requests: .*the value is negative .* use increase\(\)/.test(r)),
    ).toBe(true);
  });

  it("a deployment id with regex characters cannot match another deployment's series", async () => {
    const rq = (extra = "") =>
      `sum(increase(http_requests_total{deployment=~"{{deployment}}",cohort="{{cohort}}"${extra}}[{{slice}}]))`;
    const ctx = await manualContext();
    start(ctx, "ladder.ok", policy(promSource(prom.url, { requests: rq(), errors: rq(',code="500"') })), T0);
    const out = await pullMetrics(ctx, "ladder.ok", { at: new Date(T0 + 20 * MIN).toISOString() });
    expect(out.errors).toEqual([]);
    expect(storedValues(ctx, "ladder.ok").size).toBe(0);
  });

  it("an injected variable cannot reach another deployment's series", async () => {
    const q = (m: string, extra = "") =>
      `sum(increase(${m}{deployment="{{vars.target}}",cohort="{{cohort}}"${extra}}[{{slice}}]))`;
    const rq =
      'sum(increase(http_requests_total{deployment=~"{{vars.target}}",cohort="{{cohort}}"}[{{slice}}]))';
    for (const [value, requests] of [
      ['x",deployment="ladder-ok', q("http_requests_total")],
      ['x"} or http_requests_total{deployment="ladder-ok', q("http_requests_total")],
      [".*", rq],
      ["ladder-.*", rq],
    ] as const) {
      const ctx = await manualContext();
      start(
        ctx,
        "mine",
        policy(promSource(prom.url, { requests, errors: q("http_requests_total", ',code="500"') })),
        T0,
        {
          target: value,
        },
      );
      const out = await pullMetrics(ctx, "mine", { at: new Date(T0 + 20 * MIN).toISOString() });
      expect(out.errors, value).toEqual([]);
      const got = storedValues(ctx, "mine");
      expect(
        [...got.keys()].filter((k) => k.endsWith("http_requests")),
        value,
      ).toEqual([]);
      expect(
        decide(ctx, { deployment_id: "mine", at: new Date(T0 + 20 * MIN).toISOString() }).reason_codes,
      ).toContain("no_data");
    }
  });
});

describe("canary source check and source explore against the real Prometheus", () => {
  function policyFile(source: Record<string, unknown>): string {
    const dir = tempDir();
    const file = join(dir, "policy.json");
    writeFileSync(file, JSON.stringify(policy(source)));
    return file;
  }
  const at = new Date(T0 + 30 * MIN).toISOString();

  it("reports series counts and samples, and exits 0 when every query returns one series", () => {
    const file = policyFile(promSource(prom.url));
    const r = runCli([
      "source",
      "check",
      "--policy",
      file,
      "--deployment",
      "ladder-ok",
      "--at",
      at,
      "--json",
    ]);
    expect(r.stderr).toBe("");
    const out = JSON.parse(r.stdout) as {
      ok: boolean;
      checks: { status: string; series_count: number; sample: number | null }[];
    };
    expect(r.code).toBe(0);
    expect(out.ok).toBe(true);
    expect(out.checks).toHaveLength(6);
    expect(out.checks.every((c) => c.status === "ok" && c.series_count === 1 && c.sample !== null)).toBe(
      true,
    );
  });

  it("names the queries that return nothing or too many series (exit 2), and an unreachable source (exit 5)", async () => {
    const file = policyFile(
      promSource(prom.url, {
        errors: Q.errors.replace("5..", "6.."),
        requests: 'increase(http_requests_total{deployment="{{deployment}}",cohort="{{cohort}}"}[{{slice}}])',
      }),
    );
    const r = runCli([
      "source",
      "check",
      "--policy",
      file,
      "--deployment",
      "ladder-ok",
      "--at",
      at,
      "--json",
    ]);
    expect(r.code).toBe(2);
    const out = JSON.parse(r.stdout) as {
      checks: { series: string; status: string; series_count: number }[];
    };
    expect(out.checks.filter((c) => c.series === "http_errors").map((c) => c.status)).toEqual([
      "empty",
      "empty",
    ]);
    expect(
      out.checks.filter((c) => c.series === "http_requests").map((c) => [c.status, c.series_count]),
    ).toEqual([
      ["too_many_series", 2],
      ["too_many_series", 2],
    ]);
    const dead = policyFile(promSource(`http://127.0.0.1:${await freePort()}`));
    expect(runCli(["source", "check", "--policy", dead, "--at", at]).code).toBe(5);
  });

  it("explores the metrics and labels that exist for a service", () => {
    const r = runCli(["source", "explore", "--url", prom.url, "--service", "checkout", "--at", at, "--json"]);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as {
      matched_by: string[];
      metrics: { name: string; type: string | null; labels: string[] }[];
      label_values: Record<string, string[]>;
      cohort_label_candidates: string[];
    };
    expect(out.matched_by).toContain("workload");
    expect(out.metrics.map((m) => m.name)).toEqual(
      expect.arrayContaining(["http_requests_total", "http_latency_ms_bucket"]),
    );
    expect(out.label_values.workload).toEqual(["checkout-v1", "checkout-v2"]);
    expect(out.cohort_label_candidates).toContain("workload");
  });
});
