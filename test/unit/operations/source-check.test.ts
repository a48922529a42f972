import { afterAll, describe, expect, it } from "vitest";
import { InvalidInputError } from "../../../mcp-server/core/errors.js";
import { policySchema } from "../../../mcp-server/core/policy/schema.js";
import {
  checkPolicySource,
  sourceCheck,
  withSourceCheck,
} from "../../../mcp-server/operations/source-check.js";
import { startDeployment } from "../../../mcp-server/operations/start-deployment.js";
import { type ApiReply, apiError, matrix, prometheusApiStandIn } from "../../support/prometheus-api.js";
import { busyPolicy, iso, MIN, operationsContext, T0 } from "./harness.js";

// The source pre-flight against a stand-in Prometheus API (real socket, chosen answers).

const servers: { close(): Promise<void> }[] = [];
afterAll(() => Promise.all(servers.map((s) => s.close())));

async function standIn(answer: (query: string) => ApiReply) {
  const s = await prometheusApiStandIn((call) => answer(call.params.get("query") ?? ""));
  servers.push(s);
  return s;
}

const one = (v = "7"): ApiReply =>
  matrix([
    {
      metric: {},
      values: [
        [1, "1"],
        [2, v],
      ],
    },
  ]);

function policy(url: string, series: Record<string, string>, extra: Record<string, unknown> = {}) {
  return busyPolicy({ source: { prometheus: { url }, series }, ...extra });
}

const Q = {
  http_requests: 'requests{cohort="{{cohort}}"}',
  http_errors: 'errors{deployment="{{deployment}}",cohort="{{cohort}}"}',
};

describe("source check: every query for every cohort over the last hour", () => {
  it("one series each is ok, with its newest value and the hour checked", async () => {
    const s = await standIn(() => one("42"));
    const out = await sourceCheck(
      { readPolicyFile: () => "" },
      {
        policy: policy(s.url, Q),
        deployment_id: "d1",
        at: iso(T0 + 90_000),
      },
    );
    expect(out).toMatchObject({ ok: true, url: s.url, unreachable: false, problems: [] });
    expect(out.to).toBe(iso(T0 + MIN));
    expect(out.from).toBe(iso(T0 + MIN - 3600_000));
    expect(
      out.checks.map((c) => [c.series, c.cohort, c.query, c.status, c.series_count, c.sample, c.message]),
    ).toEqual([
      ["http_errors", "canary", 'errors{deployment="d1",cohort="canary"}', "ok", 1, 42, "one series"],
      ["http_errors", "control", 'errors{deployment="d1",cohort="control"}', "ok", 1, 42, "one series"],
      ["http_requests", "canary", 'requests{cohort="canary"}', "ok", 1, 42, "one series"],
      ["http_requests", "control", 'requests{cohort="control"}', "ok", 1, 42, "one series"],
    ]);
    const call = s.calls[0]!;
    expect(Number(call.params.get("end")) * 1000).toBe(T0 + MIN);
    expect(Number(call.params.get("start")) * 1000).toBe(T0 + MIN - 3600_000);
    expect(call.params.get("step")).toBe("60");
  });

  it("names empty, split and failing queries, each with what to do", async () => {
    const s = await standIn((q) => {
      if (q.startsWith("errors")) return matrix([]);
      if (q.includes("canary"))
        return matrix([
          { metric: { pod: "a" }, values: [[1, "1"]] },
          { metric: { pod: "b" }, values: [[1, "2"]] },
        ]);
      return apiError(400, "bad_data", "unexpected identifier");
    });
    const out = await sourceCheck({ readPolicyFile: () => "" }, { policy: policy(s.url, Q), at: iso(T0) });
    expect(out.ok).toBe(false);
    const by = Object.fromEntries(out.checks.map((c) => [`${c.series}/${c.cohort}`, c]));
    expect(by["http_errors/canary"]).toMatchObject({ status: "empty", series_count: 0, sample: null });
    // Without a deployment id, {{deployment}} was guessed: the message says so.
    expect(by["http_errors/canary"]!.message).toBe(
      'no series over the last hour for cohort canary: check the metric name and the labels (explore them with canary source explore); {{deployment}} rendered as "preflight": give the deployment id to check; an empty series holds every decision on no_data',
    );
    expect(by["http_requests/canary"]).toMatchObject({
      status: "too_many_series",
      series_count: 2,
      sample: 1,
      message: "2 series where one was expected: aggregate with sum(...)",
    });
    expect(by["http_requests/control"]!.status).toBe("error");
    expect(by["http_requests/control"]!.message).toMatch(
      /^the query was refused \(HTTP 400, bad_data: unexpected identifier\)/,
    );
    expect(out.problems).toHaveLength(4);
    expect(out.problems[0]).toMatch(/^http_errors \(canary\): empty: no series/);
    expect(out.unreachable).toBe(false);
  });

  it("an empty series of a query without {{deployment}}, or with the id given, says nothing of it", async () => {
    const s = await standIn(() => matrix([]));
    const guessed = await sourceCheck(
      { readPolicyFile: () => "" },
      { policy: policy(s.url, { ...Q, http_errors: 'errors{cohort="{{cohort}}"}' }), at: iso(T0) },
    );
    expect(guessed.checks.every((c) => !c.message.includes("rendered as"))).toBe(true);
    const given = await sourceCheck(
      { readPolicyFile: () => "" },
      { policy: policy(s.url, Q), deployment_id: "d9", at: iso(T0) },
    );
    expect(given.checks.every((c) => !c.message.includes("rendered as"))).toBe(true);
  });

  it("histograms need le buckets and are counted per bucket set", async () => {
    // The sample is the +Inf bucket's newest value: every observation.
    const bucket = (le: string | undefined, extra: Record<string, string> = {}) => ({
      metric: { ...(le === undefined ? {} : { le }), __name__: "x", ...extra },
      values: [[1, le === "+Inf" ? "5" : "3"]] as [number, string][],
    });
    const s = await standIn((q) => {
      if (q.startsWith("good")) return matrix([bucket("100"), bucket("+Inf")]);
      if (q.startsWith("nole")) return matrix([bucket(undefined)]);
      return matrix([
        bucket("100", { pod: "a" }),
        bucket("+Inf", { pod: "a" }),
        bucket("100", { pod: "b" }),
        bucket("+Inf", { pod: "b" }),
      ]);
    });
    const p = (q: string) =>
      busyPolicy({
        metrics: [
          {
            name: "latency",
            type: "histogram",
            series: "lat",
            percentiles: [99],
            bad: "increase",
            tolerance: { relative: 0.2 },
          },
        ],
        source: { prometheus: { url: s.url }, series: { lat: `${q}{cohort="{{cohort}}"}` } },
      });
    const ok = await sourceCheck({ readPolicyFile: () => "" }, { policy: p("good"), at: iso(T0) });
    expect(ok.checks.map((c) => [c.status, c.series_count, c.sample])).toEqual([
      ["ok", 1, 5],
      ["ok", 1, 5],
    ]);
    const nole = await sourceCheck({ readPolicyFile: () => "" }, { policy: p("nole"), at: iso(T0) });
    expect(nole.checks[0]).toMatchObject({
      status: "error",
      message: "a histogram series needs le buckets: sum by (le) (increase(x_bucket[{{slice}}]))",
    });
    const split = await sourceCheck({ readPolicyFile: () => "" }, { policy: p("split"), at: iso(T0) });
    expect(split.checks[0]).toMatchObject({
      status: "too_many_series",
      series_count: 2,
      message: "2 series where one was expected: aggregate with sum(...) by (le)",
    });
  });

  it("an answer that is not a range vector, or a value that is not finite, is reported as such", async () => {
    const s = await standIn((q) =>
      q.startsWith("requests")
        ? {
            body: {
              status: "success",
              data: { resultType: "vector", result: [{ metric: {}, value: [1, "1"] }] },
            },
          }
        : one("NaN"),
    );
    const out = await sourceCheck({ readPolicyFile: () => "" }, { policy: policy(s.url, Q), at: iso(T0) });
    const requests = out.checks.find((c) => c.series === "http_requests")!;
    expect(requests).toMatchObject({
      status: "error",
      message: "the answer is not a range vector; the query must be an instant vector expression",
    });
    expect(out.checks.find((c) => c.series === "http_errors")).toMatchObject({ status: "ok", sample: null });
  });

  it("checks the hour before now when no `at` is given", async () => {
    const s = await standIn(() => one());
    const before = Date.now();
    const out = await sourceCheck({ readPolicyFile: () => "" }, { policy: policy(s.url, Q) });
    const to = Date.parse(out.to);
    expect(to).toBeLessThanOrEqual(Date.now());
    expect(to).toBeGreaterThan(before - 2 * MIN);
  });

  it("a source that does not answer at all is unreachable", async () => {
    const s = await standIn(() => one());
    await s.close();
    const out = await sourceCheck(
      { readPolicyFile: () => "" },
      {
        policy: policy(s.url, Q, {}),
        at: iso(T0),
      },
    );
    expect(out.unreachable).toBe(true);
    expect(out.checks.every((c) => c.status === "error")).toBe(true);
  });

  it("a placeholder without a value fails its row without asking the source", async () => {
    const s = await standIn(() => one());
    const out = await sourceCheck(
      { readPolicyFile: () => "" },
      {
        policy: policy(s.url, { ...Q, http_requests: 'requests{cohort="{{cohort}}",version="{{version}}"}' }),
        at: iso(T0),
      },
    );
    const rows = out.checks.filter((c) => c.series === "http_requests");
    expect(rows.map((r) => r.status)).toEqual(["error", "error"]);
    expect(rows[0]!.message).toMatch(/version/);
    expect(s.calls).toHaveLength(2);
    expect(out.unreachable).toBe(false);
    const withVersion = await sourceCheck(
      { readPolicyFile: () => "" },
      {
        policy: policy(s.url, {
          ...Q,
          http_requests: 'requests{cohort="{{cohort}}",version="{{version}}",r="{{vars.region}}"}',
        }),
        version: "v2",
        vars: { region: "eu" },
        at: iso(T0),
      },
    );
    expect(withVersion.checks.find((c) => c.series === "http_requests")!.query).toBe(
      'requests{cohort="canary",version="v2",r="eu"}',
    );
  });
});

describe("source check's input", () => {
  it("refuses a policy without a source, an invalid policy, and a bad `at`", async () => {
    const noFiles = { readPolicyFile: () => "" };
    const e1 = await sourceCheck(noFiles, { policy: busyPolicy() }).catch((e: unknown) => e);
    expect(e1).toBeInstanceOf(InvalidInputError);
    expect((e1 as InvalidInputError).field).toBe("policy.source");
    const e2 = await sourceCheck(noFiles, { policy: { ...busyPolicy(), alpha: 3 } }).catch((e: unknown) => e);
    expect((e2 as InvalidInputError).field).toBe("policy.alpha");
    const e3 = await sourceCheck({ readPolicyFile: () => "just: text" }, { policy: "p.yaml" }).catch(
      (e: unknown) => e,
    );
    expect((e3 as InvalidInputError).field).toBe("policy");
    const e4 = await sourceCheck(noFiles, { policy: policy("http://127.0.0.1:9", Q), at: "noon" }).catch(
      (e: unknown) => e,
    );
    expect((e4 as InvalidInputError).field).toBe("at");
    expect((e4 as Error).message).toBe(
      'expected an ISO-8601 time such as "2026-05-26T10:30:00Z", got "noon"',
    );
  });

  it("a client that cannot be set up is bad input naming the source; a missing credential fails each row", async () => {
    const ca = busyPolicy({
      source: { prometheus: { url: "https://127.0.0.1:9", ca_file: "/nonexistent/ca.pem" }, series: Q },
    });
    const e = await sourceCheck({ readPolicyFile: () => "" }, { policy: ca, at: iso(T0) }).catch(
      (x: unknown) => x,
    );
    expect(e).toBeInstanceOf(InvalidInputError);
    expect((e as InvalidInputError).field).toBe("policy.source.prometheus");
    expect((e as Error).message).toMatch(/cannot read source.prometheus.ca_file/);
    const token = busyPolicy({
      source: { prometheus: { url: "http://127.0.0.1:9", token_env: "CANARY_TEST_UNSET_TOKEN" }, series: Q },
    });
    const out = await sourceCheck({ readPolicyFile: () => "" }, { policy: token, at: iso(T0) });
    expect(out.unreachable).toBe(false);
    expect(out.checks.every((c) => c.status === "error" && /CANARY_TEST_UNSET_TOKEN/.test(c.message))).toBe(
      true,
    );
  });

  it("checkPolicySource names the missing source section", async () => {
    await expect(
      checkPolicySource(policySchema.parse(busyPolicy()), { deployment_id: "d", vars: {}, at: T0 }),
    ).rejects.toThrow(/the policy has no source section/);
  });
});

describe("start_deployment's source check (a warning, never a block)", () => {
  it("adds the check's problems to the start; a policy without a source is left as it is", async () => {
    const s = await standIn((q) => (q.startsWith("errors") ? matrix([]) : one()));
    const ctx = await operationsContext();
    const input = { deployment_id: "d1", policy: policy(s.url, Q), at: iso(T0) };
    const started = startDeployment(ctx, input);
    const out = await withSourceCheck(ctx, input, started);
    expect(out).toEqual({ ...started, source_check: { ok: false, problems: out.source_check!.problems } });
    expect(out.source_check!.problems).toHaveLength(2);
    expect(out.source_check!.problems[0]).toMatch(/^http_errors \(canary\): empty/);
    // The check renders {{deployment}} as the deployment's own id.
    expect(s.calls.some((c) => c.params.get("query") === 'errors{deployment="d1",cohort="canary"}')).toBe(
      true,
    );
    const plain = startDeployment(ctx, {
      deployment_id: "d2",
      policy: busyPolicy({ service: "other" }),
      at: iso(T0),
    });
    expect(await withSourceCheck(ctx, { deployment_id: "d2" }, plain)).toBe(plain);
  });

  it("a check that cannot run is a problem, not a failed start", async () => {
    const ctx = await operationsContext();
    const p = busyPolicy({
      source: { prometheus: { url: "https://127.0.0.1:9", ca_file: "/nonexistent/ca.pem" }, series: Q },
    });
    const started = startDeployment(ctx, { deployment_id: "d1", policy: p, at: iso(T0) });
    const out = await withSourceCheck(ctx, { deployment_id: "d1" }, started);
    expect(out.source_check?.ok).toBe(false);
    expect(out.source_check?.problems).toEqual([
      expect.stringMatching(/^cannot read source.prometheus.ca_file/),
    ]);
  });
});
