import { join } from "node:path";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { InvalidInputError } from "../../mcp-server/core/errors.js";
import type { Slice } from "../../mcp-server/core/slice.js";
import { boundedLines } from "../../mcp-server/core/slice-line.js";
import { MIGRATIONS } from "../../mcp-server/ledger/migrations.js";
import { openLedger } from "../../mcp-server/ledger/open.js";
import { loadSlices } from "../../mcp-server/ledger/slices.js";
import type { OperationContext } from "../../mcp-server/operations/context.js";
import { ingestSlices } from "../../mcp-server/operations/ingest.js";
import { recordMetrics } from "../../mcp-server/operations/record-metrics.js";
import { startDeployment } from "../../mcp-server/operations/start-deployment.js";
import { tempDir } from "../support/cli.js";
import { manualContext } from "../support/context.js";
import { basicPolicy } from "../support/policies.js";
import { Random } from "../support/random.js";

const T0 = Date.UTC(2026, 4, 26, 10);
const iso = (minutes: number) => new Date(T0 + minutes * 60_000).toISOString();

async function started(): Promise<OperationContext> {
  const ctx = await manualContext();
  startDeployment(ctx, { deployment_id: "d1", policy: basicPolicy(), at: iso(0) });
  return ctx;
}

/** One cohort's requests per minute as given, with errors at about 1%. */
function series(values: number[], cohort: Slice["cohort"] = "control"): Slice[] {
  return values.map((v, m) => ({
    t: iso(m),
    cohort,
    counters: { http_requests: v, http_errors: Math.floor(v / 100) },
  }));
}

async function* from(lines: string[]): AsyncGenerator<string> {
  yield* lines;
}

async function refusal(p: Promise<unknown>): Promise<InvalidInputError> {
  try {
    await p;
  } catch (error) {
    if (error instanceof InvalidInputError) return error;
    throw error;
  }
  throw new Error("expected the ingest to be refused");
}

function failure(fn: () => unknown): InvalidInputError {
  try {
    fn();
  } catch (error) {
    if (error instanceof InvalidInputError) return error;
    throw error;
  }
  throw new Error("expected the call to be refused");
}

describe("counters that look cumulative are refused at the door", () => {
  it("refuses a running total started at zero, naming the series and saying to send increments", async () => {
    const ctx = await started();
    const rnd = new Random(3);
    let total = 0;
    const totals = Array.from({ length: 20 }, () => (total += Math.round(1000 + 200 * rnd.uniform())));
    const e = failure(() => recordMetrics(ctx, { deployment_id: "d1", slices: series(totals), at: iso(30) }));
    expect(e.field).toBe("counters.http_requests");
    expect(e.message).toMatch(/looks cumulative.*send what was counted within each slice/);
    expect(loadSlices(ctx.ledger, "d1")).toHaveLength(0);
  });

  it("refuses a running total that started long before the deployment (a large, slowly growing value)", async () => {
    const ctx = await started();
    const rnd = new Random(4);
    let total = 48_000_000;
    const totals = Array.from({ length: 25 }, () => (total += Math.round(1000 + 300 * rnd.uniform())));
    expect(
      failure(() => recordMetrics(ctx, { deployment_id: "d1", slices: series(totals), at: iso(30) })).message,
    ).toMatch(/looks cumulative/);
  });

  it("catches a running total sent one slice per call, once the run is long enough", async () => {
    const ctx = await started();
    let total = 0;
    let refusedAt: number | undefined;
    for (let m = 0; m < 20 && refusedAt === undefined; m++) {
      total += 1000 + ((m * 37) % 200);
      try {
        recordMetrics(ctx, {
          deployment_id: "d1",
          slices: series([total]).map((s) => ({ ...s, t: iso(m) })),
          at: iso(m + 1),
        });
      } catch (error) {
        expect(error).toBeInstanceOf(InvalidInputError);
        refusedAt = m;
      }
    }
    expect(refusedAt).toBe(11);
  });

  it("refuses it in an ingest too, keeping nothing", async () => {
    const ctx = await started();
    let total = 0;
    const lines = series(Array.from({ length: 30 }, (_, m) => (total += 500 + ((m * 53) % 100)))).map((s) =>
      JSON.stringify({ ...s, deployment_id: "d1" }),
    );
    const e = await refusal(ingestSlices(ctx, from(lines)));
    expect(e.field).toBe("line 1: counters.http_requests");
    expect(e.message).toMatch(/looks cumulative/);
    expect(loadSlices(ctx.ledger, "d1")).toHaveLength(0);
  });

  it("accepts healthy traffic that grows: a noisy ramp, a smooth exponential ramp", async () => {
    const ctx = await started();
    const rnd = new Random(5);
    // Doubling over 40 minutes with ordinary noise.
    const noisy = Array.from({ length: 40 }, (_, m) =>
      Math.round(1000 * 2 ** (m / 40) * (0.9 + 0.2 * rnd.uniform())),
    );
    // A noise-free 5% per minute ramp: rises every slice, but its steps grow with it.
    const smooth = Array.from({ length: 40 }, (_, m) => Math.round(200 * 1.05 ** m));
    recordMetrics(ctx, { deployment_id: "d1", slices: series(noisy, "control"), at: iso(41) });
    recordMetrics(ctx, { deployment_id: "d1", slices: series(smooth, "canary"), at: iso(41) });
    expect(loadSlices(ctx.ledger, "d1")).toHaveLength(80);
  });
});

describe("events never exceed trials", () => {
  it("refuses more errors than requests in a slice, naming the field", async () => {
    const ctx = await started();
    const slice: Slice = { t: iso(0), cohort: "canary", counters: { http_requests: 10, http_errors: 11 } };
    const e = failure(() => recordMetrics(ctx, { deployment_id: "d1", slices: [slice], at: iso(5) }));
    expect(e.field).toBe("slices[0].counters.http_errors");
    expect(e.message).toMatch(/http_errors = 11 is greater than http_requests = 10/);
    const inIngest = await refusal(
      ingestSlices(ctx, from([JSON.stringify({ ...slice, deployment_id: "d1" })])),
    );
    expect(inIngest.field).toBe("line 1: counters.http_errors");
    expect(loadSlices(ctx.ledger, "d1")).toHaveLength(0);
  });
});

describe("limits at the door", () => {
  it("refuses a histogram with more than 1 000 bounds", async () => {
    const ctx = await started();
    const bounds = Array.from({ length: 1001 }, (_, i) => i + 1);
    const line = JSON.stringify({
      deployment_id: "d1",
      t: iso(0),
      cohort: "canary",
      histograms: { latency: { bounds, counts: [...bounds, 0].map(() => 1) } },
    });
    const e = await refusal(ingestSlices(ctx, from([line])));
    expect(e.field).toBe("line 1: histograms.latency.bounds");
    expect(e.message).toMatch(/more than 1000 bucket bounds/);
  });

  it("refuses a line over 1 MiB as soon as it is that long, without reading the rest", async () => {
    let chunks = 0;
    async function* endless(): AsyncGenerator<string> {
      yield '{"t": "2026-05-26T10:00:00Z"}\n';
      for (;;) {
        chunks++;
        yield "x".repeat(65_536);
      }
    }
    const lines: string[] = [];
    const read = (async () => {
      for await (const l of boundedLines(endless())) lines.push(l);
    })();
    await expect(read).rejects.toThrow(/is longer than 1048576 bytes/);
    expect(lines).toHaveLength(1);
    // It stopped at the limit: an endless line was never buffered.
    expect(chunks).toBeLessThanOrEqual(17);
  });
});

describe("slices from several instances add up", () => {
  const slice = (instance: string | undefined, requests: number, latency: number[]): Slice => ({
    t: iso(0),
    cohort: "canary",
    ...(instance ? { instance } : {}),
    counters: { http_requests: requests, http_errors: 1 },
    histograms: { latency: { bounds: [10, 100], counts: latency } },
    moments: { bytes: { n: requests, sum: requests * 10, sum_sq: requests * 100 } },
    units: requests,
  });

  it("sums two pods' slices for the same time and cohort; a re-sent slice replaces only its own pod's", async () => {
    const ctx = await started();
    recordMetrics(ctx, { deployment_id: "d1", slices: [slice("pod-a", 100, [1, 2, 3])], at: iso(5) });
    await ingestSlices(
      ctx,
      from([JSON.stringify({ ...slice("pod-b", 50, [4, 5, 6]), deployment_id: "d1" })]),
    );
    let [s] = loadSlices(ctx.ledger, "d1");
    expect(s).toMatchObject({
      counters: { http_requests: 150, http_errors: 2 },
      histograms: { latency: { bounds: [10, 100], counts: [5, 7, 9] } },
      moments: { bytes: { n: 150, sum: 1500, sum_sq: 15000 } },
      units: 150,
    });
    // pod-a retries with a corrected count: pod-b's contribution stays.
    recordMetrics(ctx, { deployment_id: "d1", slices: [slice("pod-a", 70, [1, 1, 1])], at: iso(5) });
    [s] = loadSlices(ctx.ledger, "d1");
    expect(s?.counters.http_requests).toBe(120);
    expect(s?.histograms.latency?.counts).toEqual([5, 6, 7]);
    // A slice without instance replaces the whole series.
    recordMetrics(ctx, { deployment_id: "d1", slices: [slice(undefined, 30, [0, 0, 30])], at: iso(5) });
    [s] = loadSlices(ctx.ledger, "d1");
    expect(s?.counters.http_requests).toBe(30);
    expect(s?.histograms.latency?.counts).toEqual([0, 0, 30]);
  });

  it("applies the same rules within one ingest stream", async () => {
    const ctx = await started();
    const lines = [
      slice("pod-a", 100, [1, 2, 3]),
      slice("pod-b", 50, [4, 5, 6]),
      slice("pod-a", 10, [1, 0, 0]),
    ].map((s) => JSON.stringify({ ...s, deployment_id: "d1" }));
    await ingestSlices(ctx, from(lines));
    expect(loadSlices(ctx.ledger, "d1")[0]?.counters.http_requests).toBe(60);
    await ingestSlices(
      ctx,
      from(
        [slice("pod-c", 1, [1, 0, 0]), slice(undefined, 5, [5, 0, 0])].map((s) =>
          JSON.stringify({ ...s, deployment_id: "d1" }),
        ),
      ),
    );
    expect(loadSlices(ctx.ledger, "d1")[0]?.counters.http_requests).toBe(5);
  });

  it("upgrades a ledger written before instances existed, keeping its slices", () => {
    const path = join(tempDir(), "v1.db");
    const db = new Database(path);
    db.pragma("journal_mode = WAL");
    db.exec(MIGRATIONS[0]!.sql);
    db.exec("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL) STRICT");
    db.prepare("INSERT INTO schema_migrations VALUES (1, 'initial')").run();
    db.prepare(
      `INSERT INTO deployments VALUES ('old', 'svc', NULL, NULL, '{}', 'x', 'completed', 0, 100, 0, 0, 0, 0, 'me')`,
    ).run();
    db.prepare(
      `INSERT INTO metric_series VALUES ('old', 'canary', 0, '', 'http_requests', 'counter', '42', 0)`,
    ).run();
    db.close();
    const ledger = openLedger(path);
    expect(loadSlices(ledger, "old")[0]?.counters.http_requests).toBe(42);
    ledger.close();
  });
});
