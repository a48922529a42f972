import { join } from "node:path";
import { createAssigner } from "../../mcp-server/cohort-assigner.js";
import type { Slice } from "../../mcp-server/core/slice.js";
import { listDecisions } from "../../mcp-server/ledger/decisions.js";
import { openLedger } from "../../mcp-server/ledger/open.js";
import { loadSlices } from "../../mcp-server/ledger/slices.js";
import { manualClock, type OperationContext } from "../../mcp-server/operations/context.js";
import { pullMetrics, sourceErrorsOf } from "../../mcp-server/operations/pull-metrics.js";
import { recordMetrics } from "../../mcp-server/operations/record-metrics.js";
import { startDeployment } from "../../mcp-server/operations/start-deployment.js";
import { tickDeployment } from "../../mcp-server/operations/tick.js";
import { tempDir } from "./cli.js";

// In-process drivers for the pull path: a manual-clock ledger, looks at chosen times, and the
// same look done with pushed slices, so the two can be compared decision by decision.

export const MIN = 60_000;

export async function manualContext(): Promise<OperationContext> {
  const ledger = openLedger(join(tempDir("canary-pull-"), "ledger.db"), { clockMode: "manual" });
  return {
    ledger,
    clock: manualClock,
    actor: "test",
    assigner: await createAssigner(),
    readPolicyFile: () => {
      throw new Error("inline policies only");
    },
  };
}

export interface LookRecord {
  at: string;
  action: string;
  verdict: string | null;
  reason_codes: string[];
  step: number;
  percent: number;
}

export function start(
  ctx: OperationContext,
  id: string,
  policy: Record<string, unknown>,
  at: number,
  vars?: Record<string, string>,
): void {
  startDeployment(ctx, {
    deployment_id: id,
    policy,
    at: new Date(at).toISOString(),
    ...(vars ? { vars } : {}),
  });
}

/** One look through the pull path: pull, then tick (decide and act). */
export async function pullLook(ctx: OperationContext, id: string, at: number): Promise<LookRecord> {
  const iso = new Date(at).toISOString();
  const sourceErrors = sourceErrorsOf(await pullMetrics(ctx, id, { at: iso }));
  const a = tickDeployment(ctx, id, iso, { sourceErrors });
  return {
    at: iso,
    action: a.action,
    verdict: a.verdict,
    reason_codes: a.reason_codes,
    step: a.step,
    percent: a.percent,
  };
}

/** One look with pushed slices: record, then tick. */
export function pushLook(ctx: OperationContext, id: string, at: number, slices: Slice[]): LookRecord {
  const iso = new Date(at).toISOString();
  if (slices.length > 0) recordMetrics(ctx, { deployment_id: id, slices, at: iso });
  const a = tickDeployment(ctx, id, iso);
  return {
    at: iso,
    action: a.action,
    verdict: a.verdict,
    reason_codes: a.reason_codes,
    step: a.step,
    percent: a.percent,
  };
}

export function decisions(ctx: OperationContext, id: string) {
  return listDecisions(ctx.ledger, id, 1000).map((d) => ({
    decided_at: d.decided_at,
    verdict: d.verdict,
    codes: d.reasons.map((r) => r.code),
    inputs_sha256: d.inputs_sha256,
    step: d.step,
  }));
}

/** Stored slices flattened to {t, cohort, series: value} for exact comparison. */
export function storedValues(ctx: OperationContext, id: string): Map<string, unknown> {
  const out = new Map<string, unknown>();
  for (const s of loadSlices(ctx.ledger, id)) {
    for (const [k, v] of Object.entries(s.counters))
      out.set(`${s.cohort}|${new Date(s.t).toISOString()}|${k}`, v);
    for (const [k, v] of Object.entries(s.histograms))
      out.set(`${s.cohort}|${new Date(s.t).toISOString()}|${k}`, v);
  }
  return out;
}

export function sliceValues(slices: Slice[], until: number): Map<string, unknown> {
  const out = new Map<string, unknown>();
  for (const s of slices) {
    if (Date.parse(s.t) > until) continue;
    for (const [k, v] of Object.entries(s.counters ?? {}))
      out.set(`${s.cohort}|${s.t.replace(/\.\d+Z$/, ".000Z")}|${k}`, v);
    for (const [k, v] of Object.entries(s.histograms ?? {}))
      out.set(`${s.cohort}|${s.t.replace(/\.\d+Z$/, ".000Z")}|${k}`, v);
  }
  return out;
}
