import { randomBytes } from "node:crypto";
import {
  closeSync,
  existsSync,
  linkSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  renameSync,
  rmSync,
  statSync,
} from "node:fs";
import { createRequire } from "node:module";
import { dirname } from "node:path";
import type SqliteDatabase from "better-sqlite3";
import type { Database } from "better-sqlite3";
import { InvalidInputError, RefusedError } from "../core/errors.js";
import { bindConnection, sqlOf } from "./connection.js";
import { corrupt, ledgerError, translated } from "./errors.js";
import { migrate, schemaVersion } from "./migrations.js";

// Required, not imported: an ESM import of this CommonJS package first scans its sources for
// their export names, a noticeable share of a short command's start-up (canary status).
const BetterSqlite3 = createRequire(import.meta.url)("better-sqlite3") as typeof SqliteDatabase;

export type ClockMode = "real" | "manual";

/**
 * The ledger: the one door to stored state. Pass the handle to the functions in ledger/; they run
 * inside whatever transaction `write` or `read` has open on it.
 */
export interface Ledger {
  readonly path: string;
  /** The clock this process runs on. */
  readonly clockMode: ClockMode;
  /** Opened read-only: writes are refused and no lock is ever taken. */
  readonly readOnly: boolean;
  /** Runs fn in one IMMEDIATE transaction (the write lock is taken up front, so two writers queue instead of deadlocking). */
  write<T>(fn: () => T): T;
  /** Runs fn in one read transaction: a consistent snapshot that never waits for writers (WAL). */
  read<T>(fn: () => T): T;
  /**
   * One IMMEDIATE transaction around async work. The connection must not be used by anything
   * else until it settles; keep the work short (it holds the write lock).
   */
  writeAsync<T>(fn: () => Promise<T>): Promise<T>;
  /**
   * Changes whenever anything was committed to the ledger, by this process or another (cheap:
   * no table is read). Caches of stored state (routing views) compare it to know when to refresh.
   */
  changeToken(): string;
  close(): void;
}

export interface OpenLedgerOptions {
  clockMode?: ClockMode;
  /** How long a writer waits for another process's transaction, in ms. */
  busyTimeoutMs?: number;
  /**
   * `read` opens an existing ledger read-only (it never creates, migrates or locks; a missing
   * file is an error); `write` (the default) creates and migrates as needed.
   */
  access?: "read" | "write";
}

const SQLITE_HEADER = "SQLite format 3\u0000";

/** What is at the path before SQLite sees it: nothing, an empty file, a foreign file, or a database. */
function checkFile(path: string, access: "read" | "write"): void {
  let size: number;
  try {
    const st = statSync(path);
    if (!st.isFile()) throw corrupt(path, "it is not a regular file");
    size = st.size;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    if (access === "read") {
      throw new InvalidInputError(
        "ledger",
        `there is no ledger at ${path} (nothing has been started with it); pass --ledger PATH or set CANARY_LEDGER to the ledger you mean`,
      );
    }
    createLedgerFile(path);
    return;
  }
  if (size === 0) {
    throw corrupt(
      path,
      "the file is empty (0 bytes), so it holds no ledger: it may have been truncated. If you meant to start afresh, delete it",
    );
  }
  const header = Buffer.alloc(16);
  const fd = openSync(path, "r");
  try {
    readSync(fd, header, 0, 16, 0);
  } finally {
    closeSync(fd);
  }
  if (header.toString("latin1") !== SQLITE_HEADER) throw corrupt(path, "it is not a SQLite database");
}

/**
 * Creates a new, migrated ledger at `path` all at once: built under a temporary name, then linked
 * into place. Another process starting at the same moment (two CI jobs) therefore sees either no
 * file or a whole ledger, never the empty file SQLite leaves between creating and first writing
 * it (which would read as a truncated ledger). Whoever links second uses the first one's file.
 */
function createLedgerFile(path: string): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.new-${process.pid}-${randomBytes(4).toString("hex")}`;
  try {
    const db = new BetterSqlite3(tmp);
    try {
      db.pragma("journal_mode = WAL");
      migrate(db);
    } finally {
      db.close();
    }
    try {
      linkSync(tmp, path);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === "EEXIST") return;
      // A file system without hard links: a rename, unless someone got there first.
      if (code === "EPERM" || code === "ENOTSUP" || code === "EOPNOTSUPP") {
        if (!existsSync(path)) renameSync(tmp, path);
        return;
      }
      throw error;
    }
  } catch (error) {
    throw ledgerError(error, path);
  } finally {
    for (const suffix of ["", "-wal", "-shm"]) rmSync(`${tmp}${suffix}`, { force: true });
  }
}

/**
 * Opens the SQLite ledger (for writers, creating and migrating it on first use). WAL lets readers
 * run beside one writer; the busy timeout makes a second writer wait rather than fail, and a lock
 * that cannot be had in time is a BusyError (retryable), never a half-written change.
 */
export function openLedger(path: string, options: OpenLedgerOptions = {}): Ledger {
  const clockMode = options.clockMode ?? "real";
  const access = options.access ?? "write";
  const readOnly = access === "read";
  if (path !== ":memory:") checkFile(path, access);
  let db: Database;
  try {
    db = readOnly
      ? openReadOnly(path, options.busyTimeoutMs ?? 10_000)
      : new BetterSqlite3(path, { timeout: options.busyTimeoutMs ?? 10_000 });
  } catch (error) {
    throw ledgerError(error, path);
  }
  try {
    translated(path, () => {
      if (!readOnly) {
        if (db.pragma("journal_mode", { simple: true }) !== "wal") db.pragma("journal_mode = WAL");
        db.pragma("synchronous = NORMAL");
      }
      db.pragma("foreign_keys = ON");
      if (readOnly) requireCurrentSchema(db, path);
      else migrate(db);
    });
    const clockOf = db.prepare("SELECT value FROM meta WHERE key = 'clock'").pluck();
    const claim = readOnly ? undefined : db.prepare("INSERT INTO meta (key, value) VALUES ('clock', ?)");
    // A ledger remembers the clock of its first write; the other clock may read, never write.
    const checkClock = () => {
      const ledgerClock = clockOf.get() as ClockMode | undefined;
      if (ledgerClock === undefined) claim?.run(clockMode);
      else if (ledgerClock !== clockMode) refuseClock(ledgerClock, clockMode);
    };
    const refuseReadOnly = () => {
      throw new RefusedError(
        "ledger_read_only",
        `the ledger ${path} was opened read-only for this command, which does not write`,
      );
    };
    // data_version moves when another connection commits; our own commits are counted here.
    let ownCommits = 0;
    const ledger: Ledger = {
      path,
      clockMode,
      readOnly,
      write<T>(fn: () => T): T {
        if (readOnly) refuseReadOnly();
        const result = translated(path, () =>
          db
            .transaction(() => {
              checkClock();
              return fn();
            })
            .immediate(),
        );
        if (!db.inTransaction) ownCommits++;
        return result;
      },
      read<T>(fn: () => T): T {
        // Nested inside a write, the write's transaction already gives a consistent view.
        if (db.inTransaction) return fn();
        return translated(path, () => db.transaction(fn).deferred());
      },
      async writeAsync<T>(fn: () => Promise<T>): Promise<T> {
        if (readOnly) refuseReadOnly();
        translated(path, () => db.exec("BEGIN IMMEDIATE"));
        try {
          translated(path, checkClock);
          const result = await fn();
          translated(path, () => db.exec("COMMIT"));
          ownCommits++;
          return result;
        } catch (error) {
          if (db.inTransaction) db.exec("ROLLBACK");
          throw ledgerError(error, path);
        }
      },
      changeToken() {
        return `${translated(path, () => db.pragma("data_version", { simple: true }))}:${ownCommits}`;
      },
      close() {
        if (db.open) db.close();
      },
    };
    bindConnection(ledger, db);
    return ledger;
  } catch (error) {
    db.close();
    throw ledgerError(error, path);
  }
}

/**
 * A read-only connection. Reading a WAL ledger needs its shared-memory file, which SQLite cannot
 * create where the reader may not write (an auditor's account, a read-only mount). With no
 * writer's WAL beside the file, everything committed is in the file itself, so the reader then
 * reads a snapshot of the file in memory instead of failing.
 */
function openReadOnly(path: string, timeout: number): Database {
  const db = new BetterSqlite3(path, { timeout, readonly: true, fileMustExist: true });
  try {
    db.prepare("SELECT count(*) FROM sqlite_master").get();
    return db;
  } catch (error) {
    db.close();
    const code = (error as { code?: unknown }).code;
    const cannotShare =
      typeof code === "string" && (code.startsWith("SQLITE_READONLY") || code.startsWith("SQLITE_CANTOPEN"));
    if (!cannotShare || existsSync(`${path}-wal`)) throw error;
  }
  const image = readFileSync(path);
  // Bytes 18-19 say WAL; an in-memory image is read as a plain (rollback-journal) database.
  image[18] = 1;
  image[19] = 1;
  return new BetterSqlite3(image, { readonly: true });
}

function requireCurrentSchema(db: Database, path: string): void {
  const { current, latest } = schemaVersion(db);
  if (current === 0) throw corrupt(path, "it holds no canary-pilot tables");
  if (current < latest) {
    throw new RefusedError(
      "ledger_schema",
      `the ledger ${path} has schema version ${current} and this canary reads version ${latest}; run any writing command (for example \`canary tick\`) once with write access to upgrade it`,
    );
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
  return sqlOf(ledger).prepare("SELECT value FROM meta WHERE key = 'clock'").pluck().get() as
    | ClockMode
    | undefined;
}
