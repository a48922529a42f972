import { join } from "node:path";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tempDir } from "../support/cli.js";
import { call, connectCanary, errorText } from "../support/mcp-client.js";
import { basicPolicy } from "../support/policies.js";

const T0 = Date.parse("2026-05-26T10:00:00Z");
const iso = (ms: number) => new Date(ms).toISOString();
const ok = (t: number, cohort = "canary") => ({
  t: iso(t),
  cohort,
  counters: { http_requests: 100, http_errors: 1 },
});
const hist = (t: number, bounds: number[], counts: number[]) => ({
  t: iso(t),
  cohort: "control",
  histograms: { lat: { bounds, counts } },
});

describe("record_metrics refuses bad slices naming index and field, and writes nothing", () => {
  let client: Client;
  beforeAll(async () => {
    client = await connectCanary({ ledger: join(tempDir(), "ledger.db"), clock: "manual" });
    const started = await call(client, "start_deployment", {
      deployment_id: "rm-1",
      policy: basicPolicy(),
      at: iso(T0),
    });
    expect(started.isError).toBeFalsy();
    const seeded = await call(client, "record_metrics", {
      deployment_id: "rm-1",
      slices: [hist(T0, [10, 20], [1, 2, 3])],
      at: iso(T0 + 120_000),
    });
    expect(seeded.isError, errorText(seeded)).toBeFalsy();
  });
  afterAll(async () => {
    await client?.close();
  });

  it.each([
    [
      "a negative count",
      [ok(T0), { ...ok(T0 + 60_000), counters: { http_requests: -1 } }],
      /slices.1.counters.http_requests|must not be negative/,
    ],
    ["a fractional count", [{ ...ok(T0), counters: { http_requests: 1.5 } }], /whole number/],
    ["a misaligned time", [ok(T0 + 30_000)], /slices\[0\]\.t.*not aligned/],
    ["a time in the future", [ok(T0 + 10 * 60_000)], /slices\[0\]\.t.*starts at or after now/],
    ["a short histogram", [hist(T0 + 60_000, [10, 20], [1, 2])], /counts|bounds.length \+ 1/],
    ["descending bounds", [hist(T0 + 60_000, [20, 10], [1, 2, 3])], /strictly ascending/],
    [
      "changed bounds",
      [hist(T0 + 60_000, [10, 30], [1, 2, 3])],
      /slices\[0\]\.histograms\.lat\.bounds.*same bounds/,
    ],
    [
      "a segment of a whole series",
      [{ ...hist(T0 + 60_000, [10, 20], [1, 2, 3]), dims: { endpoint: "/a" } }],
      /slices\[0\]\.dims.*mixing/,
    ],
    ["an unknown field", [{ ...ok(T0), colour: "red" }], /colour|Unrecognized/i],
    ["an unknown cohort", [{ ...ok(T0), cohort: "treatment" }], /cohort/],
    [
      "another deployment's slice",
      [{ ...ok(T0), deployment_id: "other" }],
      /slices\[0\]\.deployment_id.*belongs to other/,
    ],
    ["the same series twice", [ok(T0), ok(T0)], /appears twice/],
  ])("refuses %s", async (_what, slices, message) => {
    const r = await call(client, "record_metrics", {
      deployment_id: "rm-1",
      slices,
      at: iso(T0 + 5 * 60_000),
    });
    expect(r.isError).toBe(true);
    expect(errorText(r)).toMatch(message);
  });

  it("kept nothing of the refused calls, and a retried slice replaces the stored one", async () => {
    const audit = await call(client, "audit_log", { deployment_id: "rm-1" });
    const actions = (audit.structuredContent as { entries: { action: string }[] }).entries.map(
      (e) => e.action,
    );
    expect(actions).toEqual(["start", "record_metrics"]);
    const first = await call(client, "record_metrics", {
      deployment_id: "rm-1",
      slices: [ok(T0), ok(T0, "control")],
      at: iso(T0 + 5 * 60_000),
    });
    expect(first.structuredContent).toMatchObject({ accepted: 2 });
    const retry = await call(client, "record_metrics", {
      deployment_id: "rm-1",
      slices: [{ ...ok(T0), counters: { http_requests: 300, http_errors: 3 } }],
      at: iso(T0 + 5 * 60_000),
    });
    expect(retry.isError).toBeFalsy();
    const report = await call(client, "compare_metrics", { deployment_id: "rm-1", at: iso(T0 + 5 * 60_000) });
    const row = (
      report.structuredContent as { rows: { metric: string; canary: { count: number } }[] }
    ).rows.find((x) => x.metric === "checkout_error_rate");
    expect(row?.canary.count).toBe(300);
  });
});
