import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import type { Slice } from "../../mcp-server/core/slice.js";
import { call, errorText } from "./mcp-client.js";
import { type CohortBehaviour, trafficSlices } from "./service-traffic.js";

export interface Look {
  at: string;
  step: number;
  percent: number;
  verdict: "promote" | "hold" | "rollback";
  reason_codes: string[];
  reasons: string[];
  advice?: { suggested_percent: number | null; message: string };
  action: "none" | "promoted" | "completed" | "rolled_back";
}

export interface DriveOptions {
  id: string;
  policy: Record<string, unknown>;
  start: number;
  rps: number;
  seed: number;
  behaviour: (t: number, cohort: "canary" | "control", step: number) => CohortBehaviour;
  lookEveryMs?: number;
  maxMs?: number;
  splitSkew?: number;
  /** Drop a cohort's slices to simulate missing data. */
  omit?: (slice: Slice) => boolean;
  act?: boolean;
}

/**
 * A simulated service under a canary, driven through the MCP tools with the manual clock:
 * traffic follows the deployment's live percent, and every look records the elapsed slices,
 * decides, and acts on the verdict (promote_step / rollback) as an operator would.
 */
export async function drive(
  client: Client,
  o: DriveOptions,
): Promise<{ looks: Look[]; state: string; percent: number; step: number }> {
  const started = await call(client, "start_deployment", {
    deployment_id: o.id,
    policy: o.policy,
    at: new Date(o.start).toISOString(),
    author: "dev@example.com",
  });
  if (started.isError) throw new Error(errorText(started));
  const lookEvery = o.lookEveryMs ?? 15 * 60_000;
  const end = o.start + (o.maxMs ?? 6 * 3600_000);
  let dataUntil = o.start;
  let step = 0;
  let percent = (started.structuredContent as { percent: number }).percent;
  let state = "canary";
  const looks: Look[] = [];
  for (let now = o.start + lookEvery; now <= end && state === "canary"; now += lookEvery) {
    const currentStep = step;
    const slices = trafficSlices({
      from: dataUntil,
      to: now,
      rps: o.rps,
      percentAt: () => percent,
      behaviour: (t, cohort) => o.behaviour(t, cohort, currentStep),
      seed: o.seed * 1000 + looks.length,
      splitSkew: o.splitSkew,
    }).filter((s) => !o.omit?.(s));
    dataUntil = now;
    const at = new Date(now).toISOString();
    if (slices.length) {
      const rec = await call(client, "record_metrics", { deployment_id: o.id, slices, at });
      if (rec.isError) throw new Error(errorText(rec));
    }
    const dec = await call(client, "decide", { deployment_id: o.id, at });
    if (dec.isError) throw new Error(errorText(dec));
    const d = dec.structuredContent as Omit<Look, "action" | "at">;
    const look: Look = {
      at,
      step: d.step,
      percent: d.percent,
      verdict: d.verdict,
      reason_codes: d.reason_codes,
      reasons: d.reasons,
      action: "none",
    };
    if (d.advice) look.advice = d.advice;
    if (o.act !== false && d.verdict === "promote") {
      const p = await call(client, "promote_step", { deployment_id: o.id, expected_step: step, at });
      if (p.isError) throw new Error(errorText(p));
      const out = p.structuredContent as { state: string; step: number; percent: number };
      ({ state, step, percent } = out);
      look.action = state === "completed" ? "completed" : "promoted";
    } else if (o.act !== false && d.verdict === "rollback") {
      const r = await call(client, "rollback", {
        deployment_id: o.id,
        reason: `decision: ${d.reason_codes.join(",")}`,
        at,
      });
      if (r.isError) throw new Error(errorText(r));
      state = "rolled_back";
      percent = 0;
      look.action = "rolled_back";
    }
    looks.push(look);
  }
  return { looks, state, percent, step };
}
