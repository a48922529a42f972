import { join } from "node:path";
import { createAssigner } from "../../../mcp-server/cohort-assigner.js";
import { RefusedError } from "../../../mcp-server/core/errors.js";
import type { Slice } from "../../../mcp-server/core/slice.js";
import { openLedger } from "../../../mcp-server/ledger/open.js";
import { manualClock, type OperationContext } from "../../../mcp-server/operations/context.js";
import { recordMetrics } from "../../../mcp-server/operations/record-metrics.js";
import { startDeployment } from "../../../mcp-server/operations/start-deployment.js";
import { tempDir } from "../../support/cli.js";
import { basicPolicy } from "../../support/policies.js";
import { trafficSlices } from "../../support/service-traffic.js";

// In-process operations on a real SQLite ledger file in a temp dir, driven by the manual clock:
// fast enough to run on every change and to mutation-test, and nothing mocked.

export const T0 = Date.parse("2026-05-26T10:00:00Z");
export const MIN = 60_000;
export const iso = (ms: number): string => new Date(ms).toISOString();

export async function operationsContext(actor = "test:operator"): Promise<OperationContext> {
  const ledger = openLedger(join(tempDir("canary-ops-"), "ledger.db"), { clockMode: "manual" });
  return { ledger, clock: manualClock, actor, assigner: await createAssigner(), readPolicyFile: () => "" };
}

/** A busy service's policy: one error-rate guardrail, 10-minute windows, looks every 5 minutes. */
export function busyPolicy(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return basicPolicy({
    check_every: "5m",
    ladder: [{ percent: 10, window: "10m" }, { percent: 50, window: "10m" }, { percent: 100 }],
    metrics: [
      {
        name: "error_rate",
        type: "ratio",
        events: "http_errors",
        trials: "http_requests",
        bad: "increase",
        tolerance: { relative: 0.2 },
        margin: { relative: 0.5 },
      },
    ],
    ...overrides,
  });
}

export function start(ctx: OperationContext, id: string, policy = busyPolicy(), at = T0) {
  return startDeployment(ctx, { deployment_id: id, policy, at: iso(at) });
}

/** Records `minutes` of 1-minute slices from `from` at `percent`, with the canary's error rate. */
export function feed(
  ctx: OperationContext,
  id: string,
  o: { from: number; minutes: number; percent: number; canaryErrors: number; rps?: number; seed?: number },
): Slice[] {
  const slices = trafficSlices({
    from: o.from,
    to: o.from + o.minutes * MIN,
    rps: o.rps ?? 400,
    percentAt: () => o.percent,
    behaviour: (_, cohort) => ({ errorRate: cohort === "canary" ? o.canaryErrors : 0.01 }),
    seed: o.seed ?? 7,
  });
  recordMetrics(ctx, { deployment_id: id, slices });
  return slices;
}

/** The RefusedError fn throws (any other outcome fails the test). */
export function refusal(fn: () => unknown): RefusedError {
  try {
    fn();
  } catch (error) {
    if (error instanceof RefusedError) return error;
    throw error;
  }
  throw new Error("expected a refusal");
}
