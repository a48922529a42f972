import { writeFileSync } from "node:fs";
import { Session } from "node:inspector/promises";
import { join } from "node:path";
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";
import { createAssigner } from "../../mcp-server/cohort-assigner.js";
import type { SchedulerClock } from "../../mcp-server/controller/clock.js";
import { createController } from "../../mcp-server/controller/controller.js";
import { createHttpServer } from "../../mcp-server/http/server.js";
import { openLedger } from "../../mcp-server/ledger/open.js";
import { type SeriesRow, upsertSeries } from "../../mcp-server/ledger/slices.js";
import { manualClock, type OperationContext } from "../../mcp-server/operations/context.js";
import { JudgeStates } from "../../mcp-server/operations/judge-states.js";
import { policyDirectory } from "../../mcp-server/operations/policy-files.js";
import { startDeployment } from "../../mcp-server/operations/start-deployment.js";
import { latencyCounts } from "../support/canary-sim.js";
import { tempDir } from "../support/cli.js";
import { Random } from "../support/random.js";
import { probe } from "./serve-probe.js";

// One controller pass over 1 000 active deployments, each with 4 h of 1-minute slices and three
// metrics (an error rate, latency p50/p99 from a histogram, a cache hit rate), every deployment due
// (check_every 1m). The server answers HTTP in the same process during the pass; a prober in a
// worker thread (its own event loop) asks /healthz and a deployment's verdict one request at a time.
//
// Passes, in this order, on the same ledger, each a minute after the one before with one new
// minute of slices stored per deployment:
//   cold:       the first pass of a fresh process: every judge built from every stored slice (what
//               a restart costs);
//   kept:       each kept judge folds only the new minute (target under 5 s);
//   kept, HTTP: the same with the prober asking all along (target HTTP p99 under 50 ms);
//   refolded:   the kept judges thrown away first, the way every look worked before judges were
//               kept (the baseline for the ratio).
// CANARY_BENCH_DEPLOYMENTS changes the count (default 1 000); CANARY_BENCH_PROFILE=FILE writes a
// CPU profile of the kept pass (open it in Chrome's DevTools).

const DEPLOYMENTS = Number(process.env.CANARY_BENCH_DEPLOYMENTS ?? 1000);
const HOURS = 4;
const MIN = 60_000;
const T0 = Date.parse("2026-06-01T08:00:00Z");
const BOUNDS = [5, 10, 20, 35, 50, 75, 100, 150, 200, 300, 500, 750, 1000, 2000, 5000];
const RPS = 100;

function policy(i: number): Record<string, unknown> {
  return {
    service: `svc-${i}`,
    slice: "1m",
    check_every: "1m",
    // A long first rung: every deployment is mid-window and each look is a hold (the common look).
    ladder: [{ percent: 5, window: "12h" }, { percent: 50, window: "1h" }, { percent: 100 }],
    metrics: [
      {
        name: "error_rate",
        type: "ratio",
        events: "errors",
        trials: "requests",
        bad: "increase",
        tolerance: { relative: 0.1 },
        margin: { relative: 0.5 },
      },
      {
        name: "latency",
        type: "histogram",
        series: "latency_ms",
        percentiles: [50, 99],
        bad: "increase",
        tolerance: { relative: 0.1 },
      },
      {
        name: "cache_hit_rate",
        type: "ratio",
        events: "cache_hits",
        trials: "cache_lookups",
        bad: "decrease",
        tolerance: { relative: 0.05 },
      },
    ],
  };
}

function minuteRows(rng: Random, id: string, t: number): SeriesRow[] {
  const rows: SeriesRow[] = [];
  for (const cohort of ["canary", "control"] as const) {
    const requests = rng.poisson(RPS * 60 * (cohort === "canary" ? 0.05 : 0.95));
    const lookups = rng.poisson(requests * 0.8);
    const counter = (series: string, value: number): SeriesRow => ({
      deploymentId: id,
      cohort,
      t,
      dimsKey: "",
      series,
      value: { kind: "counter", value },
    });
    rows.push(
      counter("requests", requests),
      counter("errors", rng.binomial(requests, 0.005)),
      counter("cache_lookups", lookups),
      counter("cache_hits", rng.binomial(lookups, 0.9)),
      {
        deploymentId: id,
        cohort,
        t,
        dimsKey: "",
        series: "latency_ms",
        value: {
          kind: "histogram",
          value: { bounds: BOUNDS, counts: latencyCounts(rng, requests, BOUNDS, { median: 40, sigma: 0.6 }) },
        },
      },
    );
  }
  return rows;
}

interface ProbeSummary {
  count: number;
  /** The slower route's p50, p99 and max. */
  p50: number;
  p99: number;
  max: number;
  failures: number;
}

// The prober (serve-probe's, in a worker thread so that it runs outside the server's event loop):
// one request at a time over keep-alive, until told to stop.
if (!isMainThread) {
  const { urls } = workerData as { urls: string[] };
  const stopped = new Promise((r) => parentPort?.once("message", r));
  parentPort?.postMessage("ready");
  const routes = Object.values(await probe(urls, stopped));
  const summary: ProbeSummary = {
    count: routes.reduce((n, r) => n + r.count, 0),
    p50: Math.max(...routes.map((r) => r.p50)),
    p99: Math.max(...routes.map((r) => r.p99)),
    max: Math.max(...routes.map((r) => r.max)),
    failures: routes.reduce((n, r) => n + r.failures, 0),
  };
  parentPort?.postMessage(summary);
}

async function main(): Promise<void> {
  const dir = tempDir("canary-bench-controller-");
  const ledger = openLedger(join(dir, "ledger.db"), { clockMode: "manual" });
  const base: OperationContext = {
    ledger,
    clock: manualClock,
    actor: "bench",
    assigner: await createAssigner(),
    readPolicyFile: () => {
      throw new Error("inline policies only");
    },
  };
  const rng = new Random(7);
  let t = performance.now();
  const ids = Array.from({ length: DEPLOYMENTS }, (_, i) => `dep-${i}`);
  ids.forEach((id, i) => {
    startDeployment(base, { deployment_id: id, policy: policy(i), at: new Date(T0).toISOString() });
  });
  const minutes = HOURS * 60;
  for (const id of ids) {
    const rows: SeriesRow[] = [];
    for (let m = 0; m < minutes; m++) rows.push(...minuteRows(rng, id, T0 + m * MIN));
    ledger.write(() => upsertSeries(ledger, rows, T0));
  }
  process.stdout.write(
    `${DEPLOYMENTS} deployments x ${minutes} one-minute slices x 3 metrics stored in ${((performance.now() - t) / 1000).toFixed(1)} s\n`,
  );

  let now = T0 + minutes * MIN;
  const clock: SchedulerClock = { now: () => now, sleep: async () => undefined };
  const judgeStates = new JudgeStates();
  const ctx: OperationContext = { ...base, judgeStates };
  const controller = createController({ ctx, clock, holder: "bench", leaseMs: 3_600_000 });
  const server = createHttpServer({
    ctx,
    tokens: [],
    allowedHosts: new Set(["127.0.0.1"]),
    policyFiles: policyDirectory(undefined),
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  const urls = [`http://127.0.0.1:${port}/healthz`, `http://127.0.0.1:${port}/v1/deployments/dep-0/verdict`];

  const pass = async (label: string, withHttp: boolean, profileTo?: string): Promise<number> => {
    const prober = withHttp ? new Worker(new URL(import.meta.url), { workerData: { urls } }) : undefined;
    // The prober says when it is loaded; the pass starts once it has been asking for a while.
    if (prober) await new Promise((r) => prober.once("message", r));
    const probed = prober && new Promise<ProbeSummary>((r) => prober.once("message", r));
    if (prober) await new Promise((r) => setTimeout(r, 200));
    const profiler = profileTo ? new Session() : undefined;
    if (profiler) {
      profiler.connect();
      await profiler.post("Profiler.enable");
      await profiler.post("Profiler.start");
    }
    t = performance.now();
    const cpu = process.cpuUsage();
    const result = await controller.runOnce();
    const ms = performance.now() - t;
    const used = process.cpuUsage(cpu);
    if (profiler && profileTo) {
      const { profile } = await profiler.post("Profiler.stop");
      writeFileSync(profileTo, JSON.stringify(profile));
      profiler.disconnect();
    }
    const cpuMs = (used.user + used.system) / 1000;
    let httpLine = "";
    if (prober && probed) {
      prober.postMessage("stop");
      const http = await probed;
      await prober.terminate();
      httpLine = `; HTTP during it: ${http.count} answers, slower route's p50 ${http.p50.toFixed(2)} ms, p99 ${http.p99.toFixed(2)} ms (target < 50 ms), max ${http.max.toFixed(1)} ms, ${http.failures} failed`;
    }
    const looked = result.actions.length;
    process.stdout.write(
      `${label.padEnd(15)} ${looked} looks in ${(ms / 1000).toFixed(2)} s (${(ms / looked).toFixed(2)} ms a look, ${(cpuMs / looked).toFixed(2)} ms of CPU)${httpLine}\n`,
    );
    return ms;
  };
  const nextMinute = () => {
    for (const id of ids) {
      const rows = minuteRows(rng, id, now);
      ledger.write(() => upsertSeries(ledger, rows, now));
    }
    now += MIN;
  };

  try {
    await pass("cold", false);
    nextMinute();
    const kept = await pass("kept", false, process.env.CANARY_BENCH_PROFILE);
    nextMinute();
    await pass("kept, HTTP", true);
    nextMinute();
    for (const id of ids) judgeStates.forget(id);
    const refolded = await pass("refolded", false);
    process.stdout.write(
      `kept-judge pass ${(kept / 1000).toFixed(2)} s (target < 5 s): ${(kept / refolded).toFixed(2)}x the refolding pass of the same run; judges ${JSON.stringify(judgeStates.stats())}; memory ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MiB RSS\n`,
    );
  } finally {
    server.close();
    server.closeAllConnections();
    ledger.close();
  }
}

if (isMainThread) await main();
