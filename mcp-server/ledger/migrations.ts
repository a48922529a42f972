import type { Database } from "better-sqlite3";
import { RefusedError } from "../core/errors.js";

// Forward-only, versioned migrations. Each runs once, inside the same transaction that records
// it, so a ledger is always at a whole version. Never edit a released migration: add a new one.
export const MIGRATIONS: ReadonlyArray<{ version: number; name: string; sql: string }> = [
  {
    version: 1,
    name: "initial",
    sql: `
CREATE TABLE meta (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
) STRICT;

CREATE TABLE deployments (
  id             TEXT PRIMARY KEY,
  service        TEXT NOT NULL,
  version        TEXT,
  author         TEXT,
  policy_json    TEXT NOT NULL,
  policy_sha256  TEXT NOT NULL,
  state          TEXT NOT NULL CHECK (state IN ('canary','paused','completed','rolled_back')),
  step           INTEGER NOT NULL,
  percent        REAL NOT NULL,
  created_at     INTEGER NOT NULL,
  step_started_at INTEGER NOT NULL,
  last_event_at  INTEGER NOT NULL,
  ended_at       INTEGER,
  started_by     TEXT NOT NULL
) STRICT;
CREATE INDEX deployments_service ON deployments(service, state);

CREATE TABLE step_transitions (
  id            INTEGER PRIMARY KEY AUTOINCREMENT,
  deployment_id TEXT NOT NULL REFERENCES deployments(id),
  kind          TEXT NOT NULL,
  from_step     INTEGER,
  to_step       INTEGER NOT NULL,
  percent       REAL NOT NULL,
  state         TEXT NOT NULL,
  actor         TEXT NOT NULL,
  reason        TEXT,
  override      INTEGER NOT NULL DEFAULT 0,
  decision_id   INTEGER,
  at            INTEGER NOT NULL
) STRICT;
CREATE INDEX step_transitions_deployment ON step_transitions(deployment_id, id);

CREATE TABLE metric_series (
  deployment_id TEXT NOT NULL REFERENCES deployments(id),
  cohort        TEXT NOT NULL CHECK (cohort IN ('canary','control','excluded')),
  t             INTEGER NOT NULL,
  dims_key      TEXT NOT NULL,
  series        TEXT NOT NULL,
  kind          TEXT NOT NULL CHECK (kind IN ('counter','histogram','moments','units')),
  value_json    TEXT NOT NULL,
  recorded_at   INTEGER NOT NULL,
  PRIMARY KEY (deployment_id, cohort, t, dims_key, series)
) STRICT, WITHOUT ROWID;

CREATE TABLE decisions (
  id             INTEGER PRIMARY KEY AUTOINCREMENT,
  deployment_id  TEXT NOT NULL REFERENCES deployments(id),
  step           INTEGER NOT NULL,
  percent        REAL NOT NULL,
  verdict        TEXT NOT NULL CHECK (verdict IN ('promote','hold','rollback')),
  reasons_json   TEXT NOT NULL,
  report_json    TEXT NOT NULL,
  advice_json    TEXT,
  policy_sha256  TEXT NOT NULL,
  inputs_sha256  TEXT NOT NULL,
  decided_at     INTEGER NOT NULL,
  next_check_at  INTEGER NOT NULL,
  actor          TEXT NOT NULL
) STRICT;
CREATE INDEX decisions_deployment ON decisions(deployment_id, id);

CREATE TABLE outbox (
  id              INTEGER PRIMARY KEY AUTOINCREMENT,
  deployment_id   TEXT NOT NULL,
  event           TEXT NOT NULL,
  target          TEXT NOT NULL,
  payload_json    TEXT NOT NULL,
  idempotency_key TEXT NOT NULL UNIQUE,
  created_at      INTEGER NOT NULL,
  attempts        INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL,
  delivered_at    INTEGER,
  last_error      TEXT
) STRICT;
CREATE INDEX outbox_due ON outbox(delivered_at, next_attempt_at);

CREATE TABLE audit_log (
  seq           INTEGER PRIMARY KEY,
  deployment_id TEXT,
  at            INTEGER NOT NULL,
  actor         TEXT NOT NULL,
  action        TEXT NOT NULL,
  details_json  TEXT NOT NULL,
  prev_hash     TEXT NOT NULL,
  entry_hash    TEXT NOT NULL,
  hmac          TEXT
) STRICT;
CREATE INDEX audit_log_deployment ON audit_log(deployment_id, seq);

-- Append-only: the ledger itself refuses to edit or delete history. (Someone with the file can
-- drop these triggers; the hash chain is what detects that.)
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER decisions_no_update BEFORE UPDATE ON decisions
BEGIN SELECT RAISE(ABORT, 'decisions are append-only'); END;
CREATE TRIGGER decisions_no_delete BEFORE DELETE ON decisions
BEGIN SELECT RAISE(ABORT, 'decisions are append-only'); END;
`,
  },
  {
    version: 2,
    name: "slice instances",
    // Slices from several pods for the same (cohort, t, segment, series) add up: each instance's
    // contribution is its own row. Existing rows become the no-instance contribution ('').
    sql: `
CREATE TABLE metric_series_v2 (
  deployment_id TEXT NOT NULL REFERENCES deployments(id),
  cohort        TEXT NOT NULL CHECK (cohort IN ('canary','control','excluded')),
  t             INTEGER NOT NULL,
  dims_key      TEXT NOT NULL,
  series        TEXT NOT NULL,
  instance      TEXT NOT NULL DEFAULT '',
  kind          TEXT NOT NULL CHECK (kind IN ('counter','histogram','moments','units')),
  value_json    TEXT NOT NULL,
  recorded_at   INTEGER NOT NULL,
  PRIMARY KEY (deployment_id, cohort, t, dims_key, series, instance)
) STRICT, WITHOUT ROWID;
INSERT INTO metric_series_v2 (deployment_id, cohort, t, dims_key, series, instance, kind, value_json, recorded_at)
  SELECT deployment_id, cohort, t, dims_key, series, '', kind, value_json, recorded_at FROM metric_series;
DROP TABLE metric_series;
ALTER TABLE metric_series_v2 RENAME TO metric_series;
-- Few rows carry an instance; this finds them without a scan (a re-sent slice without instance
-- must clear them).
CREATE INDEX metric_series_instances ON metric_series(deployment_id) WHERE instance <> '';
`,
  },
  {
    version: 3,
    name: "deployment_vars",
    // Values for {{vars.NAME}} in a policy's source queries, fixed at start.
    sql: `
CREATE TABLE deployment_vars (
  deployment_id TEXT PRIMARY KEY REFERENCES deployments(id),
  vars_json     TEXT NOT NULL
) STRICT;
`,
  },
  {
    version: 4,
    name: "slice_writes",
    // One row per write of a deployment's slices, with the earliest slice it touched: a process
    // that keeps a judge between looks folds only new slices, and rebuilds when a write reached
    // back behind what it has folded (a retry, a late pod, a slice that grew).
    sql: `
CREATE TABLE slice_writes (
  revision      INTEGER PRIMARY KEY AUTOINCREMENT,
  deployment_id TEXT NOT NULL REFERENCES deployments(id),
  first_t       INTEGER NOT NULL
) STRICT;
CREATE INDEX slice_writes_deployment ON slice_writes(deployment_id, revision);
`,
  },
];

/** The schema version a ledger is at, and the one this build writes. */
export function schemaVersion(db: Database): { current: number; latest: number } {
  const latest = MIGRATIONS[MIGRATIONS.length - 1]?.version ?? 0;
  const hasTable = db
    .prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'")
    .pluck()
    .get();
  if (!hasTable) return { current: 0, latest };
  const current =
    (db.prepare("SELECT MAX(version) FROM schema_migrations").pluck().get() as number | null) ?? 0;
  return { current, latest };
}

/**
 * Brings the schema up to date. A ledger already current costs one read and takes no lock, so
 * opening never queues behind another process's write; only a ledger that is behind takes the
 * write lock, once per missing migration (re-checked under the lock: two processes may open a
 * new ledger at once).
 */
export function migrate(db: Database): number {
  const { current, latest } = schemaVersion(db);
  if (current > latest) {
    throw new RefusedError(
      "ledger_schema",
      `this ledger has schema version ${current}, newer than this canary understands (${latest}): upgrade canary-pilot`,
    );
  }
  if (current === latest) return current;
  db.exec(
    "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL) STRICT",
  );
  const isApplied = db.prepare("SELECT 1 FROM schema_migrations WHERE version = ?").pluck();
  const record = db.prepare("INSERT INTO schema_migrations (version, name) VALUES (?, ?)");
  for (const m of MIGRATIONS) {
    if (m.version <= current) continue;
    db.transaction(() => {
      if (isApplied.get(m.version)) return;
      db.exec(m.sql);
      record.run(m.version, m.name);
    }).immediate();
  }
  return latest;
}
