import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TokenTable } from "../../mcp-server/http/tokens.js";
import { findDeployment, getDeployment } from "../../mcp-server/ledger/deployments.js";
import type { Clock } from "../../mcp-server/operations/context.js";
import { recordMetrics } from "../../mcp-server/operations/record-metrics.js";
import { MINUTE, T0 } from "../support/canary-sim.js";
import { tempDir } from "../support/cli.js";
import { basicPolicy } from "../support/policies.js";
import { serveInProcess } from "../support/serve-in-process.js";
import { trafficSlices } from "../support/service-traffic.js";

// Flagger cannot run here (it needs a Kubernetes cluster): these tests replay the webhook bodies it
// sends, as pkg/controller/webhook.go builds them from CanaryWebhookPayload {name, namespace,
// phase, checksum, metadata} (POST, Content-Type: application/json, the webhook's metadata as
// given in the Canary), and check the status codes Flagger acts on: 2xx goes on, anything else halts.
// The clock is a settable one (wall-clock mode, so hooks carry no time, as Flagger's do not).

const OPERATOR = "tok-flagger-operator-0123456789";
const VIEWER = "tok-flagger-viewer-01234567890";
const tokens = [
  { token: Buffer.from(OPERATOR), actor: "flagger" },
  { token: Buffer.from(VIEWER), actor: "dashboard", role: "viewer" },
] as TokenTable;

let now = T0;
const clock: Clock = { mode: "real", now: () => now };

const policiesDir = tempDir();
const flaggerPolicy = basicPolicy({
  service: "podinfo",
  ladder_owner: "external",
  ladder: [{ percent: 10, window: "30m" }, { percent: 20, window: "30m" }, { percent: 100 }],
});
mkdirSync(join(policiesDir, "team"), { recursive: true });
writeFileSync(join(policiesDir, "team", "podinfo.json"), JSON.stringify(flaggerPolicy));
writeFileSync(join(policiesDir, "internal.json"), JSON.stringify(basicPolicy({ service: "podinfo" })));

/** The body Flagger POSTs to a webhook: the webhook's metadata verbatim, plus the Canary's identity. */
function flaggerBody(checksum: string, phase = "Progressing", metadata: Record<string, string> = {}) {
  return { name: "podinfo", namespace: "test", phase, checksum, metadata };
}

describe("Flagger webhooks: POST /v1/flagger/{hook} (replays Flagger's documented webhook body)", () => {
  let serve: Awaited<ReturnType<typeof serveInProcess>>;
  beforeAll(async () => {
    serve = await serveInProcess({
      clock,
      tokens,
      policiesDir,
    });
  });
  afterAll(async () => serve?.close());

  const hook = (name: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${serve.base}/v1/flagger/${name}`, {
      method: "POST",
      headers: { "Content-Type": "application/json", ...headers },
      body: typeof body === "string" ? body : JSON.stringify(body),
    });
  const meta = { policy: "team/podinfo.json", token: OPERATOR };

  function feed(id: string, from: number, to: number, percent: number, canaryErrors = 0.01) {
    recordMetrics(serve.ctx, {
      deployment_id: id,
      slices: trafficSlices({
        from,
        to,
        rps: 400,
        percentAt: () => percent,
        behaviour: (_t, cohort) => ({ errorRate: cohort === "canary" ? canaryErrors : 0.01 }),
        seed: 3,
      }),
    });
  }

  it("runs a revision through confirm-rollout, confirm-traffic-increase and confirm-promotion: 200 to go on, 403 to hold", async () => {
    const id = "test.podinfo.7c8d9f5b6";
    now = T0;
    const gate = await hook("confirm-rollout", flaggerBody("7c8d9f5b6", "Progressing", meta));
    expect(gate.status).toBe(200);
    expect(getDeployment(serve.ctx.ledger, id)).toMatchObject({ state: "canary", version: "7c8d9f5b6" });
    now = T0 + MINUTE;
    const firstIncrease = await hook(
      "confirm-traffic-increase",
      flaggerBody("7c8d9f5b6", "Progressing", meta),
    );
    expect(firstIncrease.status).toBe(200);
    expect(await firstIncrease.json()).toMatchObject({ percent: 10, reason_codes: ["first_increase"] });
    // Within the window: hold, as a 403 so Flagger halts without treating it as an outage.
    now = T0 + 10 * MINUTE;
    const early = await hook("confirm-traffic-increase", flaggerBody("7c8d9f5b6", "Progressing", meta));
    expect(early.status).toBe(403);
    expect(await early.json()).toMatchObject({
      verdict: "hold",
      reason_codes: expect.arrayContaining(["window_open"]),
    });
    const noRollback = await hook("rollback", flaggerBody("7c8d9f5b6", "Progressing", meta));
    expect(noRollback.status).toBe(403);
    const notYet = await hook("confirm-promotion", flaggerBody("7c8d9f5b6", "Progressing", meta));
    expect(notYet.status).toBe(403);
    // After a healthy window at 10%: the increase to the next rung is allowed and recorded.
    now = T0 + 36 * MINUTE;
    feed(id, T0 + MINUTE, T0 + 36 * MINUTE, 10);
    const increase = await hook("confirm-traffic-increase", flaggerBody("7c8d9f5b6", "Progressing", meta));
    expect(increase.status).toBe(200);
    expect(await increase.json()).toMatchObject({ verdict: "promote", percent: 20 });
    expect(getDeployment(serve.ctx.ledger, id).percent).toBe(20);
    now = T0 + 70 * MINUTE;
    feed(id, T0 + 36 * MINUTE, T0 + 70 * MINUTE, 20);
    // At the last canary rung Flagger asks for promotion, not another increase.
    const top = await hook("confirm-traffic-increase", flaggerBody("7c8d9f5b6", "Progressing", meta));
    expect(top.status).toBe(403);
    expect(await top.json()).toMatchObject({ reason_codes: expect.arrayContaining(["ladder_top"]) });
    const promotion = await hook("confirm-promotion", flaggerBody("7c8d9f5b6", "Progressing", meta));
    expect(promotion.status).toBe(200);
    expect(getDeployment(serve.ctx.ledger, id)).toMatchObject({ state: "completed", percent: 100 });
    // Flagger's event hook: metadata {eventMessage, eventType, timestamp}; accepted, no change.
    const event = await hook("event", {
      ...flaggerBody("7c8d9f5b6", "Succeeded"),
      metadata: {
        eventMessage: "Promotion completed!",
        eventType: "Normal",
        timestamp: String(now),
        token: OPERATOR,
      },
    });
    expect(event.status).toBe(202);
  });

  it("answers the rollback hook with 200 when the verdict is rollback, and a new checksum supersedes the old revision", async () => {
    now = T0 + 100 * MINUTE;
    expect((await hook("confirm-rollout", flaggerBody("aaaa1111", "Progressing", meta))).status).toBe(200);
    now += MINUTE;
    expect(
      (await hook("confirm-traffic-increase", flaggerBody("aaaa1111", "Progressing", meta))).status,
    ).toBe(200);
    // A new revision while the old one is under analysis: the old one is rolled back, the new one starts.
    now += MINUTE;
    expect((await hook("confirm-rollout", flaggerBody("bbbb2222", "Progressing", meta))).status).toBe(200);
    expect(getDeployment(serve.ctx.ledger, "test.podinfo.aaaa1111").state).toBe("rolled_back");
    now += MINUTE;
    expect(
      (await hook("confirm-traffic-increase", flaggerBody("bbbb2222", "Progressing", meta))).status,
    ).toBe(200);
    const start = now;
    now = start + 30 * MINUTE;
    feed("test.podinfo.bbbb2222", start, start + 30 * MINUTE, 10, 0.05);
    const rb = await hook("rollback", flaggerBody("bbbb2222", "Progressing", meta));
    expect(rb.status).toBe(200);
    expect(await rb.json()).toMatchObject({
      verdict: "rollback",
      reason_codes: expect.arrayContaining(["regression"]),
    });
    expect(
      (await hook("confirm-traffic-increase", flaggerBody("bbbb2222", "Progressing", meta))).status,
    ).toBe(403);
    // Flagger reports the failure too: accepted; the revision stays rolled back.
    const failed = await hook("event", {
      ...flaggerBody("bbbb2222", "Failed"),
      metadata: {
        eventMessage: "Canary failed! Scaling down podinfo.test",
        eventType: "Warning",
        timestamp: String(now),
        token: OPERATOR,
      },
    });
    expect(failed.status).toBe(202);
    expect(getDeployment(serve.ctx.ledger, "test.podinfo.bbbb2222").state).toBe("rolled_back");
  });

  it("rolls a revision back in the ledger when Flagger's event hook reports phase Failed", async () => {
    now = T0 + 300 * MINUTE;
    expect((await hook("confirm-rollout", flaggerBody("cccc3333", "Progressing", meta))).status).toBe(200);
    const failed = await hook("event", {
      ...flaggerBody("cccc3333", "Failed"),
      metadata: {
        eventMessage: "Canary failed!",
        eventType: "Warning",
        timestamp: String(now),
        token: OPERATOR,
      },
    });
    expect(failed.status).toBe(202);
    expect(getDeployment(serve.ctx.ledger, "test.podinfo.cccc3333").state).toBe("rolled_back");
  });

  it("gives the right errors: unknown deployment 404, bad payloads 400, viewer token 403, no token 401, hostile policy paths 400", async () => {
    now = T0 + 400 * MINUTE;
    const unknown = await hook(
      "confirm-traffic-increase",
      flaggerBody("dddd4444", "Progressing", { token: OPERATOR }),
    );
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as { error: { message: string } }).error.message).toMatch(
      /metadata\.policy/,
    );
    const notJson = await hook("confirm-rollout", "{name: podinfo", { authorization: `Bearer ${OPERATOR}` });
    expect(notJson.status).toBe(400);
    const noNamespace = await hook("confirm-rollout", { name: "podinfo", checksum: "x1", metadata: meta });
    expect(noNamespace.status).toBe(400);
    expect(await noNamespace.json()).toMatchObject({ error: { field: "namespace" } });
    const noChecksum = await hook("confirm-rollout", { name: "podinfo", namespace: "test", metadata: meta });
    expect(noChecksum.status).toBe(400);
    expect(await noChecksum.json()).toMatchObject({ error: { field: "checksum" } });
    const badMeta = await hook("confirm-rollout", {
      ...flaggerBody("eeee5555"),
      metadata: { policy: 7, token: OPERATOR },
    });
    expect(badMeta.status).toBe(400);
    const unknownHook = await hook("pre-rollout", flaggerBody("eeee5555", "Progressing", meta));
    expect(unknownHook.status).toBe(404);
    const viewer = await hook(
      "confirm-rollout",
      flaggerBody("eeee5555", "Progressing", { policy: meta.policy, token: VIEWER }),
    );
    expect(viewer.status).toBe(403);
    expect(((await viewer.json()) as { error: { message: string } }).error.message).toMatch(/viewer/);
    const anonymous = await hook(
      "confirm-rollout",
      flaggerBody("eeee5555", "Progressing", { policy: meta.policy }),
    );
    expect(anonymous.status).toBe(401);
    for (const hostile of ["../internal.json", "/etc/passwd", "team/../../x.json", "./team/podinfo.json"]) {
      const r = await hook(
        "confirm-rollout",
        flaggerBody("eeee5555", "Progressing", { policy: hostile, token: OPERATOR }),
      );
      expect(r.status, hostile).toBe(400);
      expect(await r.json()).toMatchObject({ error: { field: "metadata.policy" } });
    }
    const internalLadder = await hook(
      "confirm-rollout",
      flaggerBody("eeee5555", "Progressing", { policy: "internal.json", token: OPERATOR }),
    );
    expect(internalLadder.status).toBe(400);
    expect(((await internalLadder.json()) as { error: { message: string } }).error.message).toMatch(
      /ladder_owner: external/,
    );
    // None of the refused hooks started anything.
    expect(findDeployment(serve.ctx.ledger, "test.podinfo.eeee5555")).toBeUndefined();
    expect(findDeployment(serve.ctx.ledger, "test.podinfo.dddd4444")).toBeUndefined();
  });
});
