import { describe, expect, it } from "vitest";
import { InvalidInputError, NotFoundError } from "../../../mcp-server/core/errors.js";
import { auditHead } from "../../../mcp-server/ledger/audit.js";
import { auditLog } from "../../../mcp-server/operations/audit-log.js";
import { rollback } from "../../../mcp-server/operations/rollback.js";
import { busyPolicy, feed, iso, MIN, operationsContext, start, T0 } from "./harness.js";

// The audit_log operation over a real hash-chained ledger.

describe("audit_log", () => {
  it("an empty ledger has the genesis head and no entries", async () => {
    const ctx = await operationsContext();
    expect(auditLog(ctx, {})).toEqual({ entries: [], head: "0".repeat(64) });
    expect(auditLog(ctx, { verify: true })).toMatchObject({
      entries: [],
      head: "0".repeat(64),
      chain_ok: true,
      verified_entries: 0,
      problems: [],
    });
  });

  it("lists one deployment's entries, oldest first, newest N; the head is the ledger's", async () => {
    const ctx = await operationsContext();
    start(ctx, "d1");
    start(ctx, "d2", busyPolicy({ service: "other" }));
    feed(ctx, "d1", { from: T0, minutes: 2, percent: 10, canaryErrors: 0.01 });
    rollback(ctx, { deployment_id: "d1", reason: "pager: errors", at: iso(T0 + 2 * MIN) });
    const all = auditLog(ctx, { deployment_id: "d1" });
    expect(all.entries.map((e) => e.action)).toEqual(["start", "record_metrics", "rollback"]);
    expect(all.entries.every((e) => e.deployment_id === "d1")).toBe(true);
    expect(all.head).toBe(auditHead(ctx.ledger));
    expect(all.chain_ok).toBeUndefined();
    expect(auditLog(ctx, { deployment_id: "d1", limit: 1 }).entries.map((e) => e.action)).toEqual([
      "rollback",
    ]);
    // Without a deployment, the whole ledger's newest entries.
    expect(auditLog(ctx, {}).entries).toHaveLength(4);
  });

  it("verifies the whole chain, and a recorded head that is or is not in it", async () => {
    const ctx = await operationsContext();
    start(ctx, "d1");
    const head = auditHead(ctx.ledger);
    start(ctx, "d2", busyPolicy({ service: "other" }));
    const ok = auditLog(ctx, { verify: true, head });
    expect(ok).toMatchObject({ chain_ok: true, verified_entries: 2, problems: [] });
    expect(ok.head).toBe(auditHead(ctx.ledger));
    const missing = auditLog(ctx, { verify: true, head: "a".repeat(64) });
    expect(missing.chain_ok).toBe(false);
    expect(missing.problems?.length).toBeGreaterThan(0);
  });

  it("signs entries with the HMAC key and checks them with it", async () => {
    const ctx = { ...(await operationsContext()), auditHmacKey: "k".repeat(32) };
    start(ctx, "d1");
    const signed = auditLog(ctx, { verify: true });
    expect(signed.entries[0]?.hmac).toMatch(/^[0-9a-f]{64}$/);
    expect(signed.chain_ok).toBe(true);
    const otherKey = auditLog({ ...ctx, auditHmacKey: "z".repeat(32) }, { verify: true });
    expect(otherKey.chain_ok).toBe(false);
  });

  it("refuses a head without verify, a malformed head and an unknown deployment", async () => {
    const ctx = await operationsContext();
    start(ctx, "d1");
    const error = (() => {
      try {
        auditLog(ctx, { head: "a".repeat(64) });
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as InvalidInputError).field).toBe("head");
    expect((error as Error).message).toBe("head is checked during verification: pass verify: true with it");
    expect(() => auditLog(ctx, { verify: true, head: "ABC" })).toThrow(/64 lowercase hex/);
    expect(() => auditLog(ctx, { deployment_id: "nope" })).toThrow(NotFoundError);
  });
});
