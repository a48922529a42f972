import { afterAll, describe, expect, it } from "vitest";
import { InvalidInputError } from "../../../mcp-server/core/errors.js";
import { sourceExplore } from "../../../mcp-server/operations/source-explore.js";
import { type ApiCall, type ApiReply, apiError, prometheusApiStandIn } from "../../support/prometheus-api.js";
import { iso, T0 } from "./harness.js";

// Discovery for a draft policy against a stand-in Prometheus API (real socket, chosen answers).

const servers: { close(): Promise<void> }[] = [];
afterAll(() => Promise.all(servers.map((s) => s.close())));

const SERIES = [
  { __name__: "http_requests_total", service: "checkout", version: "v1", code: "200" },
  { __name__: "http_requests_total", service: "checkout", version: "v2", code: "500" },
  { __name__: "http_latency_ms_bucket", service: "checkout", version: "v1", le: "100" },
  { __name__: "up", service: "checkout-worker", track: "stable" },
];

async function standIn(answer: (call: ApiCall) => ApiReply | undefined = () => undefined) {
  const s = await prometheusApiStandIn((call) => {
    const own = answer(call);
    if (own) return own;
    if (call.path === "/api/v1/series") {
      const match = call.params.get("match[]") ?? "";
      return { body: { status: "success", data: match.startsWith("{service=~") ? SERIES : [] } };
    }
    if (call.path === "/api/v1/metadata")
      return {
        body: {
          status: "success",
          data: {
            http_requests: [{ type: "counter", help: "Requests served" }],
            http_latency_ms: [{ type: "histogram", help: "Latency" }],
          },
        },
      };
    return { status: 404, body: {} };
  });
  servers.push(s);
  return s;
}

const noFiles = { readPolicyFile: () => "" };

describe("source explore: what a service's metrics look like", () => {
  it("finds the service's series by label, with types, labels, values and cohort candidates", async () => {
    const s = await standIn();
    const out = await sourceExplore(noFiles, { url: s.url, service: "checkout", at: iso(T0) });
    expect(out).toEqual({
      url: s.url,
      service: "checkout",
      matched_by: ["service"],
      metrics: [
        {
          name: "http_latency_ms_bucket",
          type: "histogram",
          help: "Latency",
          series: 1,
          labels: ["le", "service", "version"],
        },
        {
          name: "http_requests_total",
          type: "counter",
          help: "Requests served",
          series: 2,
          labels: ["code", "service", "version"],
        },
        { name: "up", type: null, help: null, series: 1, labels: ["service", "track"] },
      ],
      label_values: {
        code: ["200", "500"],
        le: ["100"],
        service: ["checkout", "checkout-worker"],
        track: ["stable"],
        version: ["v1", "v2"],
      },
      // track has one value only: it cannot tell two cohorts apart.
      cohort_label_candidates: ["version"],
      truncated: false,
    });
    const first = s.calls.find((c) => c.path === "/api/v1/series")!;
    expect(first.params.get("match[]")).toBe('{service=~".*checkout.*"}');
    expect(Number(first.params.get("end")) * 1000).toBe(T0);
    expect(Number(first.params.get("start")) * 1000).toBe(T0 - 3600_000);
    // Every service label is tried.
    expect(s.calls.filter((c) => c.path === "/api/v1/series")).toHaveLength(9);
  });

  it("caps metrics and label values at the limit and says it truncated", async () => {
    const s = await standIn();
    const out = await sourceExplore(noFiles, { url: s.url, service: "checkout", limit: 1, at: iso(T0) });
    expect(out.metrics.map((m) => m.name)).toEqual(["http_latency_ms_bucket"]);
    expect(out.label_values.version).toEqual(["v1"]);
    expect(out.truncated).toBe(true);
  });

  it("reads at most 2 000 series, and looks at the last hour before now by default", async () => {
    const many = Array.from({ length: 2001 }, (_, i) => ({
      __name__: `m_${i % 3}`,
      service: "big",
      pod: `p${i}`,
    }));
    const s = await standIn((call) =>
      call.path === "/api/v1/series" && (call.params.get("match[]") ?? "").startsWith("{service=~")
        ? { body: { status: "success", data: many } }
        : undefined,
    );
    const before = Date.now();
    const out = await sourceExplore(noFiles, { url: s.url, service: "big" });
    expect(out.truncated).toBe(true);
    expect(out.metrics.reduce((n, m) => n + m.series, 0)).toBe(2000);
    const end = Number(s.calls[0]!.params.get("end")) * 1000;
    expect(end).toBeGreaterThanOrEqual(before);
    expect(end).toBeLessThanOrEqual(Date.now());
  });

  it("regex characters in the service are escaped; a proxy without metadata still lists names", async () => {
    const s = await standIn((call) =>
      call.path === "/api/v1/metadata" ? { status: 404, body: {} } : undefined,
    );
    const out = await sourceExplore(noFiles, { url: s.url, service: "a.b", at: iso(T0) });
    // PromQL reads the matcher as a Go string: the regex's backslash is itself escaped (a bare
    // \. is refused by Prometheus as an unknown escape sequence).
    expect(s.calls[0]!.params.get("match[]")).toBe(String.raw`{service=~".*a\\.b.*"}`);
    expect(out.metrics.every((m) => m.type === null && m.help === null)).toBe(true);
    expect(out.metrics).toHaveLength(3);
  });

  it("reads the Prometheus and the service from a draft policy, file or object", async () => {
    const s = await standIn();
    const draft = `service: checkout\nsource:\n  prometheus:\n    url: ${s.url}\nladder: not yet\n`;
    const fromFile = await sourceExplore(
      { readPolicyFile: () => draft },
      { policy: "draft.yaml", at: iso(T0) },
    );
    expect(fromFile).toMatchObject({ url: s.url, service: "checkout", matched_by: ["service"] });
    const fromObject = await sourceExplore(noFiles, {
      policy: { service: "checkout-worker", source: { prometheus: { url: s.url } } },
      at: iso(T0),
    });
    expect(fromObject.service).toBe("checkout-worker");
    // An explicit service wins over the draft's.
    expect(
      (
        await sourceExplore(noFiles, {
          policy: { service: "x", source: { prometheus: { url: s.url } } },
          service: "checkout",
          at: iso(T0),
        })
      ).service,
    ).toBe("checkout");
  });
});

describe("source explore's refusals", () => {
  async function refusal(p: Promise<unknown>): Promise<InvalidInputError> {
    const e = await p.then(
      () => undefined,
      (error: unknown) => error,
    );
    if (e instanceof InvalidInputError) return e;
    throw new Error(`expected InvalidInputError, got ${String(e)}`);
  }

  it("needs a Prometheus, a valid source section and a service", async () => {
    expect((await refusal(sourceExplore(noFiles, { service: "x" }))).field).toBe("policy.source.prometheus");
    const bad = await refusal(
      sourceExplore(noFiles, {
        policy: { service: "x", source: { prometheus: { url: "ftp://x", bogus: 1 } } },
      }),
    );
    expect(bad.field).toBe("policy.source.prometheus");
    expect(bad.message).toMatch(/bogus|url/);
    const noService = await refusal(sourceExplore(noFiles, { url: "http://127.0.0.1:9" }));
    expect(noService.field).toBe("service");
    expect(noService.message).toBe("name the service to look for (service, or the draft's service)");
  });

  it("an unreadable or unparseable draft file is refused without its content", async () => {
    const unreadable = await refusal(
      sourceExplore(
        {
          readPolicyFile: () => {
            throw new Error("EACCES secret");
          },
        },
        { policy: "draft.yaml" },
      ),
    );
    expect(unreadable.message).toBe('cannot read "draft.yaml"; pass a readable draft policy file');
    const broken = await refusal(
      sourceExplore({ readPolicyFile: () => "a: [unclosed" }, { policy: "draft.yaml" }),
    );
    expect(broken.message).toBe("the draft policy is not valid YAML or JSON");
  });

  it("a bad `at` or a failing API is bad input naming what failed", async () => {
    const s = await standIn((call) =>
      call.path === "/api/v1/series" ? apiError(422, "execution", "too many series") : undefined,
    );
    expect((await refusal(sourceExplore(noFiles, { url: s.url, service: "x", at: "tomorrow" }))).field).toBe(
      "at",
    );
    const failing = await refusal(sourceExplore(noFiles, { url: s.url, service: "x", at: iso(T0) }));
    expect(failing.field).toBe("policy.source.prometheus");
    expect(failing.message).toMatch(
      /^\/api\/v1\/series: the query failed \(HTTP 422, execution: too many series\)/,
    );
    // Discovery asks once: an overloaded source is not retried.
    const busy = await standIn((call) =>
      call.path === "/api/v1/series" ? { status: 503, body: {} } : undefined,
    );
    expect(
      (await refusal(sourceExplore(noFiles, { url: busy.url, service: "x", at: iso(T0) }))).message,
    ).toMatch(/HTTP 503/);
    expect(busy.calls).toHaveLength(1);
  });
});
