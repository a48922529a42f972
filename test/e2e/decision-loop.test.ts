import { join } from "node:path";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tempDir } from "../support/cli.js";
import { drive } from "../support/drive.js";
import { call, connectCanary, errorText } from "../support/mcp-client.js";

const T0 = Date.parse("2026-05-26T10:00:00Z");
const HOUR = 3600_000;

/** Errors (any increase rolls back; promote once +30% is ruled out) and p50/p99 latency (+50 ms rolls back). */
function servicePolicy(service: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    service,
    slice: "1m",
    check_every: "15m",
    ladder: [
      { percent: 1, window: "30m" },
      { percent: 5, window: "30m" },
      { percent: 25, window: "30m" },
      { percent: 50, window: "30m" },
      { percent: 100 },
    ],
    metrics: [
      {
        name: "error_rate",
        type: "ratio",
        events: "http_errors",
        trials: "http_requests",
        bad: "increase",
        tolerance: { relative: 0 },
        margin: { relative: 0.3 },
      },
      {
        name: "latency",
        type: "histogram",
        series: "http_latency_ms",
        percentiles: [50, 99],
        bad: "increase",
        tolerance: { absolute: 50 },
        margin: { absolute: 100 },
      },
    ],
    approvers: ["release-lead@example.com"],
    ...overrides,
  };
}

const healthy = () => ({ errorRate: 0.005, latencyMedian: 50 });

describe("the decision loop end to end (SDK client, stdio, manual clock)", () => {
  let client: Client;
  let approver: Client;
  const ledger = join(tempDir(), "ledger.db");

  beforeAll(async () => {
    client = await connectCanary({ ledger, clock: "manual" });
    approver = await connectCanary({
      ledger,
      clock: "manual",
      env: { CANARY_ACTOR: "release-lead@example.com" },
    });
  });
  afterAll(async () => {
    await client?.close();
    await approver?.close();
  });

  it("walks a healthy release 1 > 5 > 25 > 50 > 100 to completed", async () => {
    const run = await drive(client, {
      id: "healthy-1",
      policy: servicePolicy("svc-healthy"),
      start: T0,
      rps: 1000,
      seed: 11,
      behaviour: healthy,
    });
    expect(run.state).toBe("completed");
    expect(run.percent).toBe(100);
    expect(run.looks.filter((l) => l.action === "promoted").map((l) => l.percent)).toEqual([1, 5, 25]);
    expect(run.looks.some((l) => l.verdict === "rollback")).toBe(false);
    // Never promoted before a window elapsed.
    for (const l of run.looks.filter((x) => x.verdict === "promote"))
      expect(l.reason_codes).toEqual(["all_guardrails_proven"]);
    const status = await call(client, "deployment_status", { deployment_id: "healthy-1" });
    expect(status.structuredContent).toMatchObject({ state: "completed", percent: 100 });
  });

  it("rolls back an error spike within the 1% step", async () => {
    const run = await drive(client, {
      id: "spike-1",
      policy: servicePolicy("svc-spike"),
      start: T0,
      rps: 1000,
      seed: 12,
      behaviour: (_t, cohort) => ({ errorRate: cohort === "canary" ? 0.025 : 0.005, latencyMedian: 50 }),
    });
    expect(run.state).toBe("rolled_back");
    const rollbackLook = run.looks.find((l) => l.verdict === "rollback");
    expect(rollbackLook?.percent).toBe(1);
    expect(rollbackLook?.reason_codes).toContain("regression");
    expect(rollbackLook?.reasons.join(" ")).toMatch(/error_rate/);
    const status = await call(client, "deployment_status", { deployment_id: "spike-1" });
    expect(status.structuredContent).toMatchObject({ state: "rolled_back", percent: 0 });
    // The evidence stays: the report can still be asked for after the rollback.
    const report = await call(client, "compare_metrics", { deployment_id: "spike-1" });
    const rows = (report.structuredContent as { rows: { metric: string; status: string }[] }).rows;
    expect(rows[0]).toMatchObject({ metric: "error_rate", status: "regression" });
  });

  it("rolls back a latency tail regression that appears only at a later step", async () => {
    const run = await drive(client, {
      id: "tail-1",
      policy: servicePolicy("svc-tail"),
      start: T0,
      rps: 1000,
      seed: 13,
      // From the 25% step on, the canary is ~60% slower: p99 moves by well over 50 ms.
      behaviour: (_t, cohort, step) => ({
        errorRate: 0.005,
        latencyMedian: cohort === "canary" && step >= 2 ? 80 : 50,
      }),
    });
    expect(run.state).toBe("rolled_back");
    const rollbackLook = run.looks.find((l) => l.verdict === "rollback");
    expect(rollbackLook?.step).toBeGreaterThanOrEqual(2);
    expect(rollbackLook?.reasons.join(" ")).toMatch(/latency/);
  });

  it("holds at low traffic and names a percent that would gather the samples", async () => {
    const run = await drive(client, {
      id: "low-1",
      policy: servicePolicy("svc-low"),
      start: T0,
      rps: 5,
      seed: 14,
      behaviour: healthy,
      maxMs: 2 * HOUR,
    });
    expect(run.state).toBe("canary");
    expect(run.step).toBe(0);
    expect(run.looks.every((l) => l.verdict === "hold")).toBe(true);
    const last = run.looks.at(-1)!;
    expect(last.reason_codes).toContain("insufficient_data");
    expect(last.advice?.message).toMatch(/%/);
  });

  it("holds on a broken split and never promotes", async () => {
    const run = await drive(client, {
      id: "split-1",
      policy: servicePolicy("svc-split"),
      start: T0,
      rps: 1000,
      seed: 15,
      behaviour: healthy,
      splitSkew: 0.4,
      maxMs: 2 * HOUR,
    });
    expect(run.looks.some((l) => l.verdict === "promote")).toBe(false);
    expect(run.looks.at(-1)?.reason_codes).toContain("srm");
  });

  it("holds when the canary's data is missing and never promotes", async () => {
    const run = await drive(client, {
      id: "missing-1",
      policy: servicePolicy("svc-missing"),
      start: T0,
      rps: 1000,
      seed: 16,
      behaviour: healthy,
      omit: (s) => s.cohort === "canary",
      maxMs: 2 * HOUR,
    });
    expect(run.looks.some((l) => l.verdict === "promote")).toBe(false);
    expect(run.looks.at(-1)?.reason_codes).toContain("no_data");
  });

  it("refuses promote_step without a promote decision, and lets only an approver override, with a reason", async () => {
    const run = await drive(client, {
      id: "ovr-1",
      policy: servicePolicy("svc-ovr"),
      start: T0,
      rps: 1000,
      seed: 17,
      behaviour: healthy,
      maxMs: HOUR / 4,
      act: false,
    });
    expect(run.looks.at(-1)?.verdict).toBe("hold");
    const at = new Date(T0 + HOUR / 4).toISOString();
    const refused = await call(client, "promote_step", { deployment_id: "ovr-1", at });
    expect(refused.isError).toBe(true);
    expect(errorText(refused)).toMatch(/fresh_promote_required.*hold/);
    const notApprover = await call(client, "promote_step", {
      deployment_id: "ovr-1",
      override: { reason: "ship it" },
      at,
    });
    expect(notApprover.isError).toBe(true);
    expect(errorText(notApprover)).toMatch(/approver_required.*tester@example.com/);
    const noReason = await call(approver, "promote_step", {
      deployment_id: "ovr-1",
      override: { reason: "" },
      at,
    });
    expect(noReason.isError).toBe(true);
    expect(errorText(noReason)).toMatch(/reason/);
    const ok = await call(approver, "promote_step", {
      deployment_id: "ovr-1",
      expected_step: 0,
      override: { reason: "hotfix for INC-42, risk accepted" },
      at,
    });
    expect(ok.isError, errorText(ok)).toBeFalsy();
    expect(ok.structuredContent).toMatchObject({ step: 1, percent: 5, override: true, moved: true });
    const retry = await call(approver, "promote_step", {
      deployment_id: "ovr-1",
      expected_step: 0,
      override: { reason: "hotfix for INC-42, risk accepted" },
      at,
    });
    expect(retry.structuredContent).toMatchObject({ step: 1, moved: false });
    const audit = await call(client, "audit_log", { deployment_id: "ovr-1", verify: true });
    const entries = (
      audit.structuredContent as {
        entries: { action: string; actor: string; details: Record<string, unknown> }[];
        chain_ok: boolean;
      }
    ).entries;
    const override = entries.find((e) => e.action === "override");
    expect(override).toMatchObject({
      actor: "release-lead@example.com",
      details: { reason: "hotfix for INC-42, risk accepted", against_verdict: "hold" },
    });
    expect((audit.structuredContent as { chain_ok: boolean }).chain_ok).toBe(true);
  });

  it("lets anyone pull the brake, with a reason, and repeating it is safe", async () => {
    const at = new Date(T0 + HOUR / 2).toISOString();
    const first = await call(client, "rollback", { deployment_id: "ovr-1", reason: "customer reports", at });
    expect(first.structuredContent).toMatchObject({
      state: "rolled_back",
      percent: 0,
      moved: true,
      author: "dev@example.com",
    });
    const again = await call(client, "rollback", { deployment_id: "ovr-1", reason: "customer reports" });
    expect(again.structuredContent).toMatchObject({ state: "rolled_back", percent: 0, moved: false });
    const promote = await call(approver, "promote_step", {
      deployment_id: "ovr-1",
      override: { reason: "try again" },
    });
    expect(errorText(promote)).toMatch(/deployment_ended|rolled_back/);
    const assign = await call(client, "assign_cohort", { deployment_id: "ovr-1", unit_id: "u1" });
    expect(assign.structuredContent).toMatchObject({ cohort: "control", percent: 0 });
  });

  it("pauses (decisions hold, promotion refused, the brake still works) and resumes", async () => {
    const at = new Date(T0 + 2 * HOUR + 60_000).toISOString();
    const paused = await call(client, "pause_deployment", {
      deployment_id: "low-1",
      reason: "incident elsewhere",
      at,
    });
    expect(paused.structuredContent).toMatchObject({ state: "paused", moved: true });
    expect(
      (await call(client, "pause_deployment", { deployment_id: "low-1", reason: "again" })).structuredContent,
    ).toMatchObject({ moved: false });
    const held = await call(client, "decide", { deployment_id: "low-1" });
    expect((held.structuredContent as { reason_codes: string[] }).reason_codes).toContain("paused");
    const promote = await call(approver, "promote_step", {
      deployment_id: "low-1",
      override: { reason: "during a pause" },
    });
    expect(errorText(promote)).toMatch(/paused/);
    const resumed = await call(client, "resume_deployment", {
      deployment_id: "low-1",
      reason: "incident over",
    });
    expect(resumed.structuredContent).toMatchObject({ state: "canary", moved: true });
    const status = await call(client, "deployment_status", { deployment_id: "low-1" });
    expect(
      (status.structuredContent as { transitions: { kind: string }[] }).transitions.map((t) => t.kind),
    ).toEqual(["start", "pause", "resume"]);
  });

  it("recomputes every stored decision from its stored inputs and policy to the same verdict and hashes", async () => {
    const audit = await call(client, "audit_log", { limit: 10_000 });
    const decisions = (
      audit.structuredContent as { entries: { action: string; details: { decision_id?: number } }[] }
    ).entries
      .filter((e) => e.action === "decide")
      .map((e) => e.details.decision_id!);
    expect(decisions.length).toBeGreaterThan(20);
    for (const id of decisions) {
      const r = await call(client, "recheck_decision", { decision_id: id });
      expect(r.structuredContent, JSON.stringify(r.structuredContent)).toMatchObject({
        matches: true,
        differences: [],
      });
    }
  });

  it("shows when a decision's inputs changed after it was made", async () => {
    const status = await call(client, "deployment_status", { deployment_id: "low-1" });
    const decisionId = (status.structuredContent as { latest_decision: { decision_id: number } })
      .latest_decision.decision_id;
    // Re-send one earlier slice with other counts: allowed (retries replace), but the decision no longer recomputes the same.
    await call(client, "record_metrics", {
      deployment_id: "low-1",
      slices: [
        { t: "2026-05-26T10:05:00Z", cohort: "control", counters: { http_requests: 999, http_errors: 0 } },
      ],
    });
    const r = await call(client, "recheck_decision", { decision_id: decisionId });
    expect(r.structuredContent).toMatchObject({ matches: false });
    expect((r.structuredContent as { differences: string[] }).differences.join()).toMatch(/inputs_sha256/);
  });

  it("exposes each deployment's status and latest report as resources", async () => {
    const { resources } = await client.listResources();
    expect(resources.map((r) => r.uri)).toContain("canary://deployments/spike-1");
    const status = await client.readResource({ uri: "canary://deployments/spike-1" });
    const first = status.contents[0];
    expect(first && "text" in first && JSON.parse(first.text)).toMatchObject({
      deployment_id: "spike-1",
      state: "rolled_back",
    });
    const report = await client.readResource({ uri: "canary://deployments/spike-1/report" });
    const r = report.contents[0];
    expect(r && "text" in r && (JSON.parse(r.text) as { rows: { status: string }[] }).rows[0]?.status).toBe(
      "regression",
    );
    const md = await client.readResource({ uri: "canary://deployments/spike-1/report.md" });
    const m = md.contents[0];
    expect(m?.mimeType).toBe("text/markdown");
    expect(m && "text" in m && m.text).toMatch(/error_rate/);
  });

  it("refuses time going backwards and `at` on a real-clock ledger writer", async () => {
    const back = await call(client, "decide", { deployment_id: "low-1", at: new Date(T0).toISOString() });
    expect(back.isError).toBe(true);
    expect(errorText(back)).toMatch(/time_order/);
    // compare_metrics may look at any past time.
    const past = await call(client, "compare_metrics", {
      deployment_id: "low-1",
      at: new Date(T0 + HOUR / 2).toISOString(),
    });
    expect(past.isError).toBeFalsy();
    const realClock = await connectCanary({ ledger });
    const refused = await call(realClock, "decide", { deployment_id: "low-1" });
    expect(errorText(refused)).toMatch(/clock/);
    await realClock.close();
  });
});
