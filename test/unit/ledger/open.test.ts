import { writeFileSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import {
  BusyError,
  IntegrityError,
  InvalidInputError,
  RefusedError,
} from "../../../mcp-server/core/errors.js";
import { auditHead } from "../../../mcp-server/ledger/audit.js";
import { whenLedgerFree } from "../../../mcp-server/ledger/busy.js";
import { openLedger } from "../../../mcp-server/ledger/open.js";
import { tempDir } from "../../support/cli.js";

describe("opening a ledger", () => {
  it("refuses to read a ledger that is not there, and creates none", () => {
    const path = join(tempDir(), "typo.db");
    expect(() => openLedger(path, { access: "read" })).toThrow(InvalidInputError);
    expect(() => openLedger(path, { access: "read" })).toThrow(/no ledger at/);
    // A writer creates it; then a reader opens it and cannot write.
    openLedger(path).close();
    const reader = openLedger(path, { access: "read" });
    expect(reader.readOnly).toBe(true);
    expect(auditHead(reader)).toMatch(/^0{64}$/);
    expect(() => reader.write(() => 1)).toThrow(RefusedError);
    reader.close();
  });

  it("treats an empty or foreign file as an integrity failure, not a new ledger", () => {
    const dir = tempDir();
    const empty = join(dir, "empty.db");
    writeFileSync(empty, "");
    expect(() => openLedger(empty)).toThrow(IntegrityError);
    expect(() => openLedger(empty)).toThrow(/empty \(0 bytes\)/);
    const foreign = join(dir, "notes.db");
    writeFileSync(foreign, "hello, this is not a database at all\n");
    expect(() => openLedger(foreign, { access: "read" })).toThrow(/not a SQLite database/);
  });

  it("changes its change token when anyone commits", () => {
    const path = join(tempDir(), "ledger.db");
    const a = openLedger(path);
    const b = openLedger(path);
    const t0 = a.changeToken();
    expect(a.changeToken()).toBe(t0);
    b.write(() => undefined);
    const t1 = a.changeToken();
    expect(t1).not.toBe(t0);
    a.write(() => undefined);
    expect(a.changeToken()).not.toBe(t1);
    a.close();
    b.close();
  });
});

describe("waiting for the write lock without blocking", () => {
  it("retries a busy write asynchronously until the other writer lets go", async () => {
    const path = join(tempDir(), "ledger.db");
    openLedger(path).close();
    const holder = new Database(path);
    holder.exec("BEGIN IMMEDIATE");
    const ledger = openLedger(path, { busyTimeoutMs: 1 });
    expect(() => ledger.write(() => 1)).toThrow(BusyError);
    // The event loop stays free while we wait: a timer set now fires before the write succeeds.
    const order: string[] = [];
    setTimeout(() => order.push("timer"), 10);
    setTimeout(() => holder.exec("COMMIT"), 80);
    const result = await whenLedgerFree(() => ledger.write(() => "written"));
    order.push(result);
    expect(order).toEqual(["timer", "written"]);
    holder.close();
    ledger.close();
  });

  it("gives up with the retryable error once its deadline passes", async () => {
    const path = join(tempDir(), "ledger.db");
    openLedger(path).close();
    const holder = new Database(path);
    holder.exec("BEGIN IMMEDIATE");
    const ledger = openLedger(path, { busyTimeoutMs: 1 });
    await expect(whenLedgerFree(() => ledger.write(() => 1), { deadlineMs: 100 })).rejects.toThrow(
      /busy: another process holds its write lock; nothing was written, retry/,
    );
    holder.exec("ROLLBACK");
    holder.close();
    ledger.close();
  });
});
