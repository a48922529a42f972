import { describe, expect, it } from "vitest";
import { listAudit } from "../../../mcp-server/ledger/audit.js";
import { getDeployment } from "../../../mcp-server/ledger/deployments.js";
import { pendingMessages } from "../../../mcp-server/ledger/outbox.js";
import { recordEvent } from "../../../mcp-server/operations/events.js";
import { busyPolicy, iso, operationsContext, start, T0 } from "./harness.js";

describe("recordEvent: an audit entry always, a message per target that wants the event", () => {
  it("queues one message per interested target, keyed by audit entry and target", async () => {
    const ctx = await operationsContext();
    start(
      ctx,
      "d1",
      busyPolicy({
        notify: [
          { type: "slack", url_env: "SLACK", events: ["rollback"] },
          { type: "webhook", url_env: "HOOK" },
          { type: "webhook", url_env: "HOOK2", events: ["hold", "completed"] },
        ],
      }),
    );
    const d = getDeployment(ctx.ledger, "d1");
    const before = pendingMessages(ctx.ledger, "d1").length;
    const { seq, head } = ctx.ledger.write(() =>
      recordEvent(ctx, d, {
        action: "pause",
        at: T0 + 1000,
        state: "paused",
        step: 0,
        percent: 10,
        notify: "hold",
        details: { reason: "incident" },
      }),
    );
    const entry = listAudit(ctx.ledger, { deploymentId: "d1" }).at(-1)!;
    expect(entry).toMatchObject({
      seq,
      entry_hash: head,
      action: "pause",
      actor: "test:operator",
      details: { reason: "incident" },
    });
    const messages = pendingMessages(ctx.ledger, "d1").slice(before);
    expect(messages.map((m) => [m.target, m.event, m.idempotency_key])).toEqual([
      ["notify[1]", "hold", `d1:${seq}:1`],
      ["notify[2]", "hold", `d1:${seq}:2`],
    ]);
    expect(messages[0]!.payload).toEqual({
      event: "hold",
      deployment_id: "d1",
      service: "checkout",
      version: null,
      author: null,
      state: "paused",
      step: 0,
      percent: 10,
      at: iso(T0 + 1000),
      actor: "test:operator",
      idempotency_key: `d1:${seq}:1`,
      audit_seq: seq,
      audit_head: head,
      reason: "incident",
    });
  });

  it("an event without notify is audited only", async () => {
    const ctx = await operationsContext();
    start(ctx, "d1", busyPolicy({ notify: [{ type: "webhook", url_env: "HOOK" }] }));
    const d = getDeployment(ctx.ledger, "d1");
    ctx.ledger.write(() =>
      recordEvent(ctx, d, { action: "resume", at: T0, state: "canary", step: 0, percent: 10, details: {} }),
    );
    expect(pendingMessages(ctx.ledger, "d1").map((m) => m.event)).toEqual(["started"]);
    expect(listAudit(ctx.ledger, { deploymentId: "d1" }).at(-1)!.action).toBe("resume");
  });
});
