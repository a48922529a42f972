import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import BetterSqlite3, { type Database } from "better-sqlite3";
import { RefusedError } from "../core/errors.js";
import { migrate } from "./migrations.js";

export type ClockMode = "real" | "manual";

export interface Ledger {
  readonly db: Database;
  readonly path: string;
  /** The clock this process runs on. */
  readonly clockMode: ClockMode;
  /** Runs fn in one IMMEDIATE transaction (the write lock is taken up front, so two writers queue instead of deadlocking). */
  write<T>(fn: () => T): T;
  /**
   * One IMMEDIATE transaction around async work (streaming a large file all or nothing). The
   * connection must not be used by anything else until it settles.
   */
  writeAsync<T>(fn: () => Promise<T>): Promise<T>;
  close(): void;
}

export interface OpenLedgerOptions {
  clockMode?: ClockMode;
  /** How long a writer waits for another process's transaction, in ms. */
  busyTimeoutMs?: number;
}

/**
 * Opens (creating and migrating on first use) the SQLite ledger. WAL lets readers run beside
 * one writer; the busy timeout makes a second writer wait rather than fail.
 */
export function openLedger(path: string, options: OpenLedgerOptions = {}): Ledger {
  const clockMode = options.clockMode ?? "real";
  if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
  const db = new BetterSqlite3(path, { timeout: options.busyTimeoutMs ?? 10_000 });
  try {
    db.pragma("journal_mode = WAL");
    db.pragma("synchronous = NORMAL");
    db.pragma("foreign_keys = ON");
    migrate(db);
    const clockOf = db.prepare("SELECT value FROM meta WHERE key = 'clock'").pluck();
    const claim = db.prepare("INSERT INTO meta (key, value) VALUES ('clock', ?)");
    // A ledger remembers the clock of its first write; the other clock may read, never write.
    const checkClock = () => {
      const ledgerClock = clockOf.get() as ClockMode | undefined;
      if (ledgerClock === undefined) claim.run(clockMode);
      else if (ledgerClock !== clockMode) refuseClock(ledgerClock, clockMode);
    };
    return {
      db,
      path,
      clockMode,
      write<T>(fn: () => T): T {
        return db
          .transaction(() => {
            checkClock();
            return fn();
          })
          .immediate();
      },
      async writeAsync<T>(fn: () => Promise<T>): Promise<T> {
        db.exec("BEGIN IMMEDIATE");
        try {
          checkClock();
          const result = await fn();
          db.exec("COMMIT");
          return result;
        } catch (error) {
          if (db.inTransaction) db.exec("ROLLBACK");
          throw error;
        }
      },
      close() {
        if (db.open) db.close();
      },
    };
  } catch (error) {
    db.close();
    throw error;
  }
}

function refuseClock(ledgerClock: ClockMode, mode: ClockMode): never {
  throw new RefusedError(
    "clock",
    `this ledger was written with the ${ledgerClock} clock and this process runs the ${mode} clock: ` +
      "writes are refused so a simulation never mixes with real history. Use another --ledger, or " +
      (ledgerClock === "manual" ? "start with --clock manual." : "drop --clock manual."),
  );
}

/** The clock a ledger was written with, if any write has happened. */
export function ledgerClockMode(ledger: Ledger): ClockMode | undefined {
  return ledger.db.prepare("SELECT value FROM meta WHERE key = 'clock'").pluck().get() as
    | ClockMode
    | undefined;
}
