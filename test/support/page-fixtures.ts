import { join } from "node:path";
import { createAssigner } from "../../mcp-server/cohort-assigner.js";
import { openLedger } from "../../mcp-server/ledger/open.js";
import { manualClock, type OperationContext } from "../../mcp-server/operations/context.js";
import { decide } from "../../mcp-server/operations/decide.js";
import { pauseDeployment, resumeDeployment } from "../../mcp-server/operations/pause-resume.js";
import { promoteStep } from "../../mcp-server/operations/promote-step.js";
import { recordMetrics } from "../../mcp-server/operations/record-metrics.js";
import { rollback } from "../../mcp-server/operations/rollback.js";
import { startDeployment } from "../../mcp-server/operations/start-deployment.js";
import { tempDir } from "./cli.js";
import { trafficSlices } from "./service-traffic.js";

// Three deployments for the pages' tests, made through the real operations on a real ledger file
// with the manual clock: one still running (its latest decision stale and a look overdue), one
// completed, one rolled back by a person with a reason.

export const T0 = Date.parse("2026-05-26T10:00:00Z");
const MIN = 60_000;

export function pagePolicy(service: string): Record<string, unknown> {
  return {
    service,
    slice: "1m",
    ladder: [
      { percent: 1, window: "20m" },
      { percent: 5, window: "20m" },
      { percent: 25, window: "20m" },
      { percent: 50, window: "20m" },
      { percent: 100 },
    ],
    metrics: [
      {
        name: "checkout_error_rate",
        type: "ratio",
        events: "http_errors",
        trials: "http_requests",
        bad: "increase",
        tolerance: { relative: 0 },
        margin: { relative: 0.5 },
      },
      {
        name: "checkout_latency",
        type: "histogram",
        series: "http_latency_ms",
        percentiles: [99],
        bad: "increase",
        tolerance: { relative: 0.1 },
        margin: { relative: 0.3 },
        critical: false,
      },
    ],
    approvers: ["release-lead@example.com"],
  };
}

interface DriveSpec {
  id: string;
  canaryErrorRate: number;
  /** Stop after promoting to this step (undefined: run to the end). */
  stopAtStep?: number;
  /** Pause at this step for a while, then resume. */
  pauseAtStep?: number;
  rollbackBy?: { actor: string; reason: string };
}

async function run(ctx: OperationContext, spec: DriveSpec): Promise<void> {
  const start = startDeployment(ctx, {
    deployment_id: spec.id,
    policy: pagePolicy(spec.id.replace("checkout-", "svc-")),
    version: "v2.4.1",
    author: "dev@example.com",
    at: new Date(T0).toISOString(),
  });
  let percent = start.percent;
  let step = 0;
  let dataUntil = T0;
  let paused = false;
  for (let look = 1; look <= 60; look++) {
    const now = T0 + look * 10 * MIN;
    const at = new Date(now).toISOString();
    const slices = trafficSlices({
      from: dataUntil,
      to: now,
      rps: 400,
      percentAt: () => percent,
      behaviour: (_t, cohort) => ({
        errorRate: cohort === "canary" ? spec.canaryErrorRate : 0.01,
        latencyMedian: cohort === "canary" ? 52 : 50,
      }),
      seed: look * 31 + spec.id.length,
    });
    dataUntil = now;
    recordMetrics(ctx, { deployment_id: spec.id, slices, at });
    if (spec.pauseAtStep === step && !paused) {
      pauseDeployment(
        { ...ctx, actor: "oncall@example.com" },
        { deployment_id: spec.id, reason: "checking a dashboard", at },
      );
      paused = true;
      continue;
    }
    if (paused && spec.pauseAtStep === step) {
      resumeDeployment(
        { ...ctx, actor: "oncall@example.com" },
        { deployment_id: spec.id, reason: "dashboard fine", at },
      );
      spec.pauseAtStep = undefined;
    }
    const d = decide(ctx, { deployment_id: spec.id, at });
    if (d.verdict === "rollback") {
      const who = spec.rollbackBy ?? { actor: "canary-bot", reason: "the judge found a regression" };
      rollback({ ...ctx, actor: who.actor }, { deployment_id: spec.id, reason: who.reason, at });
      return;
    }
    if (d.verdict === "promote") {
      const p = promoteStep(ctx, { deployment_id: spec.id, expected_step: step, at });
      step = p.step;
      percent = p.percent;
      if (p.state === "completed") return;
      if (spec.stopAtStep !== undefined && step >= spec.stopAtStep) {
        // Traffic goes on, nobody looks: the promote that moved it is now stale and a look overdue.
        const later = now + 60 * MIN;
        recordMetrics(ctx, {
          deployment_id: spec.id,
          slices: trafficSlices({
            from: now,
            to: later,
            rps: 400,
            percentAt: () => percent,
            behaviour: () => ({ errorRate: 0.01, latencyMedian: 50 }),
            seed: 99,
          }),
          at: new Date(later).toISOString(),
        });
        return;
      }
    }
  }
}

export const RUNNING = "checkout-running";
export const COMPLETED = "checkout-completed";
export const ROLLED_BACK = "checkout-rolled-back";

/** A ledger file with the three deployments; returns its path and an open manual-clock context. */
export async function pageFixtures(): Promise<{ path: string; ctx: OperationContext }> {
  const path = join(tempDir("canary-pages-"), "ledger.db");
  const ctx: OperationContext = {
    ledger: openLedger(path, { clockMode: "manual" }),
    clock: manualClock,
    actor: "canary-bot",
    assigner: await createAssigner(),
    readPolicyFile: () => "",
  };
  await run(ctx, { id: COMPLETED, canaryErrorRate: 0.01, pauseAtStep: 1 });
  await run(ctx, { id: RUNNING, canaryErrorRate: 0.01, stopAtStep: 3 });
  await run(ctx, {
    id: ROLLED_BACK,
    canaryErrorRate: 0.016,
    rollbackBy: { actor: "oncall <sre@example.com>", reason: "errors <script>alert(1)</script> doubled" },
  });
  return { path, ctx };
}
