import { Worker } from "node:worker_threads";
import { judgesById } from "./judges/index.js";
import { SCENARIOS, type Scenario, scenarioByName } from "./scenarios.js";
import { type DeploymentOutcome, simulateReplicate } from "./simulate.js";
import { type CellSummary, summarise } from "./summary.js";

// Plans the benchmark's cells (scenario x traffic x look cadence), runs their replicates in
// chunks, in this thread or on worker threads, and summarises each (cell, judge). Chunks only
// split work: every replicate's draws depend on (seed, replicate, minute, cohort, share), never on
// which worker ran it, so the figures are the same for any number of workers.

export const TRAFFIC_RPS = [100, 1_000, 10_000] as const;
export const LOOK_CADENCES = [15, 1] as const;

export interface BenchOptions {
  aaReplicates: number;
  regressionReplicates: number;
  scenarios: readonly Scenario[];
  traffic: readonly number[];
  looks: readonly number[];
  seed: number;
  judges: readonly string[];
  /** 0 runs everything in this thread. */
  workers: number;
  onProgress?: (done: number, total: number) => void;
}

export interface ChunkTask {
  scenario: string;
  rps: number;
  lookEveryMinutes: number;
  seed: number;
  from: number;
  to: number;
  judges: readonly string[];
}

export interface ChunkResult {
  task: ChunkTask;
  /** outcomes[replicate - from][judge index] */
  outcomes: DeploymentOutcome[][];
}

const CHUNK = 25;

export function runChunk(task: ChunkTask): ChunkResult {
  const scenario = scenarioByName(task.scenario);
  if (!scenario) throw new Error(`unknown scenario ${task.scenario}`);
  const judges = task.judges.map((id) => {
    const j = judgesById.get(id);
    if (!j) throw new Error(`unknown judge ${id}`);
    return j;
  });
  const outcomes: DeploymentOutcome[][] = [];
  for (let r = task.from; r < task.to; r++) {
    outcomes.push(
      simulateReplicate(
        scenario,
        { seed: task.seed, rps: task.rps, lookEveryMinutes: task.lookEveryMinutes },
        r,
        judges,
      ),
    );
  }
  return { task, outcomes };
}

export function planTasks(opts: BenchOptions): ChunkTask[] {
  const tasks: ChunkTask[] = [];
  for (const scenario of opts.scenarios) {
    const replicates = scenario.aa ? opts.aaReplicates : opts.regressionReplicates;
    for (const rps of opts.traffic) {
      for (const look of opts.looks) {
        for (let from = 0; from < replicates; from += CHUNK) {
          tasks.push({
            scenario: scenario.name,
            rps,
            lookEveryMinutes: look,
            seed: opts.seed,
            from,
            to: Math.min(replicates, from + CHUNK),
            judges: opts.judges,
          });
        }
      }
    }
  }
  // Slow cells first (1-minute looks, high replicate counts) so workers finish together.
  return tasks.sort((a, b) => a.lookEveryMinutes - b.lookEveryMinutes);
}

async function runTasks(
  tasks: ChunkTask[],
  workers: number,
  onProgress?: (done: number, total: number) => void,
): Promise<ChunkResult[]> {
  const results: ChunkResult[] = [];
  if (workers <= 0) {
    for (const t of tasks) {
      results.push(runChunk(t));
      onProgress?.(results.length, tasks.length);
    }
    return results;
  }
  const queue = [...tasks];
  const workerUrl = new URL("./worker.js", import.meta.url);
  await Promise.all(
    Array.from({ length: Math.min(workers, tasks.length) }, async () => {
      const w = new Worker(workerUrl);
      try {
        for (let task = queue.shift(); task; task = queue.shift()) {
          const current = task;
          const r = await new Promise<ChunkResult>((resolve, reject) => {
            const onMessage = (msg: ChunkResult) => {
              w.off("error", onError);
              resolve(msg);
            };
            const onError = (e: Error) => {
              w.off("message", onMessage);
              reject(e);
            };
            w.once("message", onMessage);
            w.once("error", onError);
            w.postMessage(current);
          });
          results.push(r);
          onProgress?.(results.length, tasks.length);
        }
      } finally {
        await w.terminate();
      }
    }),
  );
  return results;
}

export async function runBenchmark(opts: BenchOptions): Promise<CellSummary[]> {
  const tasks = planTasks(opts);
  const results = await runTasks(tasks, opts.workers, opts.onProgress);
  const cells = new Map<string, DeploymentOutcome[][]>();
  for (const r of results) {
    const key = `${r.task.scenario}|${r.task.rps}|${r.task.lookEveryMinutes}`;
    const list = cells.get(key) ?? [];
    for (let i = 0; i < r.outcomes.length; i++) list[r.task.from + i] = r.outcomes[i]!;
    cells.set(key, list);
  }
  const summaries: CellSummary[] = [];
  for (const scenario of opts.scenarios) {
    for (const rps of opts.traffic) {
      for (const look of opts.looks) {
        const reps = cells.get(`${scenario.name}|${rps}|${look}`) ?? [];
        opts.judges.forEach((judge, j) => {
          summaries.push(
            summarise(
              {
                scenario: scenario.name,
                family: scenario.family,
                aa: scenario.aa,
                rps,
                lookEveryMinutes: look,
                judge,
              },
              reps.map((rep) => rep[j]!),
            ),
          );
        });
      }
    }
  }
  return summaries;
}

/** Scenarios whose name matches any filter (exact, or a prefix ending in "*"), in their declared order. */
export function selectScenarios(filters: readonly string[]): Scenario[] {
  if (filters.length === 0) return [...SCENARIOS];
  const matches = (name: string) =>
    filters.some((f) => (f.endsWith("*") ? name.startsWith(f.slice(0, -1)) : name === f));
  return SCENARIOS.filter((s) => matches(s.name) || filters.includes(s.family));
}
