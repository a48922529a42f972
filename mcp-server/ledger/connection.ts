import type { Database } from "better-sqlite3";

// The SQLite connection behind a Ledger handle. Only modules in ledger/ import this: everything
// else passes the handle to ledger functions and never sees SQL or the connection.
const connections = new WeakMap<object, Database>();

export function bindConnection(handle: object, db: Database): void {
  connections.set(handle, db);
}

export function sqlOf(handle: object): Database {
  const db = connections.get(handle);
  if (!db) throw new Error("ledger handle has no open connection");
  return db;
}
