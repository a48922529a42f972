import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createAssigner } from "../../mcp-server/cohort-assigner.js";
import { createController } from "../../mcp-server/controller/controller.js";
import { Exposition, RequestDurations, renderMetrics } from "../../mcp-server/http/metrics.js";
import { openLedger } from "../../mcp-server/ledger/open.js";
import { manualClock, type OperationContext } from "../../mcp-server/operations/context.js";
import { JudgeStates } from "../../mcp-server/operations/judge-states.js";
import { recordMetrics } from "../../mcp-server/operations/record-metrics.js";
import { rollback } from "../../mcp-server/operations/rollback.js";
import { startDeployment } from "../../mcp-server/operations/start-deployment.js";
import { tempDir } from "../support/cli.js";
import { basicPolicy } from "../support/policies.js";
import { trafficSlices } from "../support/service-traffic.js";

const T0 = Date.parse("2026-05-26T10:00:00Z");
const MIN = 60_000;

function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split("\n")) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (want.every((w) => line.includes(w))) return Number(line.slice(line.lastIndexOf(" ") + 1));
  }
  return undefined;
}

describe("the controller's /metrics exposition", () => {
  it("passes promtool's lint and reports state, percent, decisions, evidence and backlog", async () => {
    const ctx: OperationContext = {
      ledger: openLedger(join(tempDir(), "ledger.db"), { clockMode: "manual" }),
      clock: manualClock,
      actor: "metrics@test",
      assigner: await createAssigner(),
      readPolicyFile: () => {
        throw new Error("no files");
      },
      judgeStates: new JudgeStates(),
    };
    const at = (t: number) => new Date(t).toISOString();
    startDeployment(ctx, {
      deployment_id: "pay-1",
      policy: basicPolicy({ check_every: "5m", notify: [{ type: "webhook", url_env: "UNSET_WEBHOOK_URL" }] }),
      at: at(T0),
    });
    startDeployment(ctx, {
      deployment_id: "search-7",
      policy: { ...basicPolicy(), service: "search" },
      at: at(T0),
    });
    rollback(ctx, { deployment_id: "search-7", reason: "pager", at: at(T0 + MIN) });
    recordMetrics(ctx, {
      deployment_id: "pay-1",
      slices: trafficSlices({
        from: T0,
        to: T0 + 10 * MIN,
        rps: 200,
        percentAt: () => 1,
        behaviour: () => ({ errorRate: 0.01 }),
        seed: 7,
      }),
      at: at(T0 + 10 * MIN),
    });
    let now = T0 + 10 * MIN;
    const controller = createController({
      ctx,
      holder: "me",
      clock: {
        now: () => now,
        sleep: async (ms) => {
          now += ms;
        },
      },
    });
    await controller.runOnce();
    // A second look five minutes on folds only the new slices into the kept judge.
    recordMetrics(ctx, {
      deployment_id: "pay-1",
      slices: trafficSlices({
        from: T0 + 10 * MIN,
        to: T0 + 15 * MIN,
        rps: 200,
        percentAt: () => 1,
        behaviour: () => ({ errorRate: 0.01 }),
        seed: 8,
      }),
      at: at(T0 + 15 * MIN),
    });
    now = T0 + 15 * MIN;
    await controller.runOnce();
    const requests = new RequestDurations();
    requests.observe("/v1/deployments/{id}/routing", "GET", 200, 0.0004);
    requests.observe("/healthz", "GET", 200, 0.02);
    const text = renderMetrics(ctx.ledger, {
      now: T0 + 40 * MIN,
      controller: controller.stats(),
      requests,
      judges: ctx.judgeStates?.stats(),
    });

    const lint = spawnSync("promtool", ["check", "metrics"], { input: text, encoding: "utf8" });
    expect(lint.error, "promtool must be installed (Debian package prometheus)").toBeUndefined();
    expect(lint.status, `${lint.stdout}${lint.stderr}`).toBe(0);

    expect(sample(text, "canary_deployments", { state: "canary" })).toBe(1);
    expect(sample(text, "canary_deployments", { state: "rolled_back" })).toBe(1);
    expect(sample(text, "canary_deployment_percent", { deployment: "pay-1" })).toBe(1);
    expect(sample(text, "canary_rollbacks_total")).toBe(1);
    expect(sample(text, "canary_decisions_total", { verdict: "hold" })).toBe(2);
    expect(sample(text, "canary_decision_reasons_total", { code: "window_open" })).toBe(2);
    expect(sample(text, "canary_guardrail_evidence", { metric: "checkout_error_rate" })).toBeGreaterThan(0);
    expect(sample(text, "canary_guardrail_evidence_threshold", { metric: "checkout_error_rate" })).toBe(20);
    expect(
      sample(text, "canary_guardrail_margin_evidence", { metric: "checkout_error_rate" }),
    ).toBeGreaterThan(0);
    // The look was due at minute 20; at minute 40 it is 20 minutes overdue (no controller ran since).
    expect(sample(text, "canary_look_overdue_seconds", { deployment: "pay-1" })).toBe(20 * 60);
    expect(sample(text, "canary_outbox_pending"), "the start and the hold wait for a receiver").toBe(2);
    expect(sample(text, "canary_controller_leader")).toBe(1);
    expect(sample(text, "canary_controller_looks_total")).toBe(2);
    // One judge kept (search-7's, built for its rollback's evidence, was let go when it ended).
    expect(sample(text, "canary_judges_kept")).toBe(1);
    expect(sample(text, "canary_judge_reports_total", { judge: "rebuilt" })).toBe(2);
    expect(sample(text, "canary_judge_reports_total", { judge: "kept" })).toBe(1);
    expect(
      sample(text, "canary_http_request_duration_seconds_bucket", { route: "/healthz", le: "0.01" }),
    ).toBe(0);
    expect(
      sample(text, "canary_http_request_duration_seconds_bucket", { route: "/healthz", le: "0.025" }),
    ).toBe(1);
    // Label values are escaped, not broken.
    const odd = new Exposition();
    odd.sample("x", { reason: 'say "hi"\\\nthen' }, 1);
    expect(odd.toString()).toBe('x{reason="say \\"hi\\"\\\\\\nthen"} 1\n');
    ctx.ledger.close();
  });
});
