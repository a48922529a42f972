import { BusyError, IntegrityError, RefusedError } from "../core/errors.js";

// SQLite's error codes, turned into the product's typed errors at the ledger's door, so that
// every transport maps them once (exit 4 integrity, exit 5 busy, exit 3 refused).

function sqliteCode(error: unknown): string | undefined {
  if (error instanceof Error && "code" in error && typeof error.code === "string") return error.code;
  return undefined;
}

/** The typed error for a SQLite failure, or the error unchanged. */
export function ledgerError(error: unknown, path: string): unknown {
  const code = sqliteCode(error);
  if (!code?.startsWith("SQLITE_")) return error;
  if (code.startsWith("SQLITE_BUSY") || code.startsWith("SQLITE_LOCKED")) {
    return new BusyError(
      `the ledger ${path} is busy: another process holds its write lock; nothing was written, retry shortly`,
    );
  }
  if (code.startsWith("SQLITE_CORRUPT") || code === "SQLITE_NOTADB") {
    return corrupt(path, error instanceof Error ? error.message : code);
  }
  if (code.startsWith("SQLITE_READONLY")) {
    return new RefusedError(
      "ledger_read_only",
      `the ledger ${path} is read-only here (file or directory permissions, or a read-only mount); this command writes, so run it where the ledger is writable`,
    );
  }
  if (code === "SQLITE_FULL") {
    return new Error(
      `the disk holding the ledger ${path} is full; nothing was written. Free space and retry`,
    );
  }
  return error;
}

export function corrupt(path: string, what: string): IntegrityError {
  return new IntegrityError(
    `the ledger ${path} is damaged (${what}). Stop writers, keep a copy of the file, then restore it from a backup, or salvage what is readable with \`sqlite3 ${path} .recover | sqlite3 recovered.db\` and check it with \`canary audit --verify --ledger recovered.db\``,
  );
}

/** Runs fn, turning SQLite's failures into typed errors. */
export function translated<T>(path: string, fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    throw ledgerError(error, path);
  }
}
