import type { Database, Statement } from "better-sqlite3";

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

// One look runs dozens of statements; preparing one costs more than running it, so each SQL text
// is prepared once per connection. (Not for statements that are iterated: one of those cannot be
// reused while an iteration is still open.)
const statements = new WeakMap<Database, Map<string, Statement>>();

export function prepared(db: Database, sql: string): Statement {
  let byText = statements.get(db);
  if (!byText) {
    byText = new Map();
    statements.set(db, byText);
  }
  let stmt = byText.get(sql);
  if (!stmt) {
    stmt = db.prepare(sql);
    byText.set(sql, stmt);
  }
  return stmt;
}
