import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import BetterSqlite3 from "better-sqlite3";
import { createAssigner } from "../../mcp-server/cohort-assigner.js";
import { migrate } from "../../mcp-server/ledger/migrations.js";
import { openLedger } from "../../mcp-server/ledger/open.js";
import { manualClock } from "../../mcp-server/operations/context.js";
import { ingestSlices } from "../../mcp-server/operations/ingest.js";
import { startDeployment } from "../../mcp-server/operations/start-deployment.js";

// Ingest throughput: `canary ingest`'s path (parse each NDJSON line, validate it with the slice
// schema and against the deployment, stage every series, store the file in one transaction) against
// a bare better-sqlite3 loop that inserts the same rows, pre-parsed, into the same table (same
// schema, keys and constraints), in one transaction, in the same run. Target: ours at least 0.5x the bare loop's slices per second.

const SLICES = 20_000;
const T0 = Date.parse("2026-05-26T10:00:00Z");
const BOUNDS = Array.from({ length: 32 }, (_, i) => 2 ** (i / 2));

function sliceLines(): string[] {
  const lines: string[] = [];
  for (let i = 0; i < SLICES; i++) {
    const t = new Date(T0 + Math.floor(i / 2) * 60_000).toISOString();
    lines.push(
      JSON.stringify({
        deployment_id: "bench-1",
        t,
        cohort: i % 2 === 0 ? "canary" : "control",
        counters: {
          // Noisy, as real per-slice counts are (a smooth sawtooth would read as a running total).
          http_requests: 1000 + ((i * 7919) % 97),
          http_errors: i % 7,
          cache_hits: 800,
          cache_lookups: 1000,
        },
        histograms: {
          http_latency_ms: {
            bounds: BOUNDS,
            counts: Array.from({ length: BOUNDS.length + 1 }, (_, j) => (i + j) % 13),
          },
        },
        units: 300,
      }),
    );
  }
  return lines;
}

async function* iterate(lines: string[]): AsyncIterable<string> {
  yield* lines;
}

async function ours(lines: string[], dir: string): Promise<number> {
  const ledger = openLedger(join(dir, "ours.db"), { clockMode: "manual" });
  const ctx = {
    ledger,
    clock: manualClock,
    actor: "bench",
    assigner: await createAssigner(),
    readPolicyFile: () => "",
  };
  startDeployment(ctx, {
    deployment_id: "bench-1",
    at: new Date(T0).toISOString(),
    policy: {
      service: "bench",
      ladder: [{ percent: 1, window: "30m" }, { percent: 100 }],
      metrics: [
        {
          name: "errors",
          type: "ratio",
          events: "http_errors",
          trials: "http_requests",
          bad: "increase",
          tolerance: { relative: 0.1 },
        },
      ],
    },
  });
  const start = performance.now();
  await ingestSlices(ctx, iterate(lines));
  const ms = performance.now() - start;
  ledger.close();
  return ms;
}

function bare(lines: string[], dir: string): number {
  const db = new BetterSqlite3(join(dir, "bare.db"));
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = NORMAL");
  db.pragma("foreign_keys = ON");
  // The same table, constraints and keys as the ledger's, so the ratio is our parsing and checks.
  migrate(db);
  db.prepare(
    `INSERT INTO deployments (id, service, policy_json, policy_sha256, state, step, percent, created_at, step_started_at, last_event_at, started_by)
     VALUES ('bench-1', 'bench', '{}', '', 'canary', 0, 1, 0, 0, 0, 'bench')`,
  ).run();
  type Parsed = {
    t: string;
    cohort: string;
    counters: Record<string, number>;
    histograms: Record<string, unknown>;
    units: number;
  };
  const parsed = lines.map((l) => JSON.parse(l) as Parsed);
  const insert = db.prepare(
    "INSERT OR REPLACE INTO metric_series (deployment_id, cohort, t, dims_key, series, instance, kind, value_json, recorded_at) VALUES (?, ?, ?, '', ?, '', ?, ?, 0)",
  );
  const start = performance.now();
  db.transaction(() => {
    for (const s of parsed) {
      const t = Date.parse(s.t);
      for (const [name, v] of Object.entries(s.counters))
        insert.run("bench-1", s.cohort, t, name, "counter", JSON.stringify(v));
      for (const [name, v] of Object.entries(s.histograms))
        insert.run("bench-1", s.cohort, t, name, "histogram", JSON.stringify(v));
      insert.run("bench-1", s.cohort, t, "@units", "units", JSON.stringify(s.units));
    }
  })();
  const ms = performance.now() - start;
  db.close();
  return ms;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

export async function runIngestBench(
  rounds = 5,
): Promise<{ oursPerSecond: number; barePerSecond: number; ratio: number }> {
  const lines = sliceLines();
  const oursMs: number[] = [];
  const bareMs: number[] = [];
  for (let r = 0; r < rounds + 1; r++) {
    const dir = mkdtempSync(join(tmpdir(), "canary-ingest-bench-"));
    try {
      const a = await ours(lines, dir);
      const b = bare(lines, dir);
      if (r > 0) {
        oursMs.push(a);
        bareMs.push(b);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const oursPerSecond = SLICES / (median(oursMs) / 1000);
  const barePerSecond = SLICES / (median(bareMs) / 1000);
  return { oursPerSecond, barePerSecond, ratio: oursPerSecond / barePerSecond };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const r = await runIngestBench();
  console.log(`ingest: ${SLICES} slices (4 counters, a 33-bucket histogram, units each), median of 5 rounds`);
  console.log(`  canary ingest path      ${Math.round(r.oursPerSecond).toLocaleString("en-US")} slices/s`);
  console.log(`  bare better-sqlite3     ${Math.round(r.barePerSecond).toLocaleString("en-US")} slices/s`);
  console.log(`  ratio ours/bare         ${r.ratio.toFixed(2)}x (target >= 0.50x)`);
}
