import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import type { Report } from "../../mcp-server/core/report.js";
import { REPO, tempDir } from "../support/cli.js";
import { call, connectCanary, errorText } from "../support/mcp-client.js";

const SCENARIOS = join(REPO, "fixtures/scenarios");
const T0 = Date.parse("2026-05-26T10:00:00Z");
const MIN = 60_000;
const iso = (ms: number) => new Date(ms).toISOString();

interface Slice {
  t: string;
  cohort: string;
}

function load(name: string): { policy: Record<string, unknown>; slices: Slice[] } {
  return {
    policy: parse(readFileSync(join(SCENARIOS, `${name}.policy.yaml`), "utf8")) as Record<string, unknown>,
    slices: readFileSync(join(SCENARIOS, `${name}.ndjson`), "utf8")
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Slice),
  };
}

/**
 * Plays a recorded scenario through the MCP tools as an operator would: every 5 minutes record
 * the slices that have ended, decide, and act on the verdict. The recorded traffic moved to the
 * next percent every 30 minutes (fixtures/scenarios/README.md), so at those times the deployment
 * follows it: by its own promote verdict, else by an approver's logged override.
 */
async function play(client: Client, approver: Client, name: string, untilMs = T0 + 120 * MIN) {
  const { policy, slices } = load(name);
  // Each scenario as its own service: one active canary per service at a time.
  policy.service = name;
  policy.approvers = ["release-lead@example.com"];
  const id = `${name}-1`;
  const started = await call(client, "start_deployment", {
    deployment_id: id,
    policy,
    at: iso(T0),
    author: "dev@example.com",
  });
  expect(started.isError, errorText(started)).toBeFalsy();
  const looks: { at: number; verdict: string; codes: string[]; step: number }[] = [];
  let next = 0;
  let state = "canary";
  let step = 0;
  for (let now = T0 + 5 * MIN; now <= untilMs && state === "canary"; now += 5 * MIN) {
    const batch: Slice[] = [];
    while (next < slices.length && Date.parse(slices[next]!.t) + MIN <= now) batch.push(slices[next++]!);
    if (batch.length) {
      const rec = await call(client, "record_metrics", { deployment_id: id, slices: batch, at: iso(now) });
      expect(rec.isError, errorText(rec)).toBeFalsy();
    }
    const dec = await call(client, "decide", { deployment_id: id, at: iso(now) });
    const d = dec.structuredContent as { verdict: string; reason_codes: string[]; step: number };
    looks.push({ at: now, verdict: d.verdict, codes: d.reason_codes, step: d.step });
    const scheduled = (now - T0) % (30 * MIN) === 0;
    if (d.verdict === "rollback") {
      await call(client, "rollback", { deployment_id: id, reason: d.reason_codes.join(","), at: iso(now) });
      state = "rolled_back";
    } else if (d.verdict === "promote" || scheduled) {
      const args: Record<string, unknown> = { deployment_id: id, expected_step: step, at: iso(now) };
      if (d.verdict !== "promote") args.override = { reason: "follow the recorded traffic schedule" };
      const p = await call(d.verdict === "promote" ? client : approver, "promote_step", args);
      expect(p.isError, errorText(p)).toBeFalsy();
      ({ state, step } = p.structuredContent as { state: string; step: number });
    }
  }
  return { id, looks, state, step };
}

async function report(client: Client, id: string, at?: number): Promise<Report> {
  const r = await call(
    client,
    "compare_metrics",
    at === undefined ? { deployment_id: id } : { deployment_id: id, at: iso(at) },
  );
  expect(r.isError, errorText(r)).toBeFalsy();
  return r.structuredContent as Report;
}

const rowsOf = (r: Report, metric: string, statistic: string) =>
  r.rows.filter((x) => x.metric === metric && x.statistic === statistic);

describe("the shipped fixture scenarios through the MCP client", () => {
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

  it("healthy: promotes on its own verdict at every window's end and completes, never a regression", async () => {
    const run = await play(client, approver, "healthy");
    expect(run.state).toBe("completed");
    expect(run.looks.filter((l) => l.verdict === "promote")).toHaveLength(4);
    expect(run.looks.some((l) => l.verdict === "rollback")).toBe(false);
    const r = await report(client, run.id, T0 + 115 * MIN);
    expect(r.rows.filter((x) => x.status === "regression")).toEqual([]);
  });

  it("error spike: /checkout is a regression and rolls back in the 1% step; /cart and /search are not", async () => {
    const run = await play(client, approver, "error-spike");
    expect(run.state).toBe("rolled_back");
    expect(run.step).toBe(0);
    const r = await report(client, run.id);
    expect(r.rows[0]).toMatchObject({ metric: "error_rate", status: "regression" });
    const checkout = r.rows.find((x) => x.segment?.endpoint === "/checkout" && x.statistic === "rate");
    expect(checkout?.status).toBe("regression");
    for (const endpoint of ["/cart", "/search"]) {
      const row = r.rows.find((x) => x.segment?.endpoint === endpoint && x.statistic === "rate");
      expect(row, `a row for ${endpoint}`).toBeDefined();
      expect(row?.status).not.toBe("regression");
    }
  });

  it("latency tail: p99 regresses only from the 25% step and rolls back there; p50 and p90 do not", async () => {
    const run = await play(client, approver, "latency-tail");
    expect(run.state).toBe("rolled_back");
    const rollback = run.looks.find((l) => l.verdict === "rollback")!;
    expect(rollback.step).toBe(2);
    expect(rollback.at).toBeGreaterThan(T0 + 60 * MIN);
    const r = await report(client, run.id);
    expect(rowsOf(r, "latency", "p99")[0]?.status).toBe("regression");
    for (const p of ["p50", "p90"]) {
      const row = rowsOf(r, "latency", p)[0];
      expect(row, `a latency ${p} row`).toBeDefined();
      expect(row?.status).not.toBe("regression");
    }
  });

  it("shared incident: both cohorts hit at once is never a regression", async () => {
    const run = await play(client, approver, "shared-incident");
    expect(run.looks.some((l) => l.verdict === "rollback")).toBe(false);
    expect(run.state).not.toBe("rolled_back");
  });

  it("low traffic: insufficient_data with samples needed, never a pass or a regression", async () => {
    const run = await play(client, approver, "low-traffic", T0 + 25 * MIN);
    expect(run.looks.every((l) => l.verdict === "hold")).toBe(true);
    const r = await report(client, run.id, T0 + 25 * MIN);
    const errors = rowsOf(r, "error_rate", "rate")[0];
    expect(errors?.status).toBe("insufficient_data");
    expect(errors?.samples_needed).toBeGreaterThan(0);
    expect(r.rows.some((x) => x.status === "regression" || x.status === "no_difference")).toBe(false);
  });

  it("broken split: srm mismatch holds and never promotes", async () => {
    const run = await play(client, approver, "broken-split", T0 + 55 * MIN);
    expect(run.looks.some((l) => l.verdict === "promote")).toBe(false);
    expect(run.looks.at(-1)?.codes).toContain("srm");
    const r = await report(client, run.id, T0 + 55 * MIN);
    expect(r.srm).toMatchObject({ mismatch: true, basis: "units" });
    expect(r.srm.observed_share).toBeLessThan(0.8 * (r.srm.expected_share ?? 0));
  });
});
