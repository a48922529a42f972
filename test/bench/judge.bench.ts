import { writeFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { parseArgs } from "node:util";
import { ALL_JUDGES, EXPERIMENT_JUDGES, judgesById } from "./judge/judges/index.js";
import { LOOK_CADENCES, runBenchmark, selectScenarios, TRAFFIC_RPS } from "./judge/runner.js";
import { renderTables, renderTargets } from "./judge/table.js";
import { checkTargets } from "./judge/targets.js";

// npm run bench:judge: our judge against the peers' methods on simulated canaries
// (docs/statistics.md, "The benchmark the judge must clear"). See docs/judge-benchmark.md.

const USAGE = `Usage: npm run bench:judge -- [options]

  --quick              few replicates, a run of about two minutes
  --replicates N       replicates per cell (A/A and regressions alike)
  --scenario NAME      only this scenario or family (repeat, or NAME* for a prefix)
  --traffic LIST       requests per second, comma separated (default 100,1000,10000)
  --looks LIST         minutes between looks, comma separated (default 15,1)
  --judges LIST        judge ids (default: all: ${ALL_JUDGES.map((j) => j.id).join(", ")};
                       experiments, only when named: ${EXPERIMENT_JUDGES.map((j) => j.id).join(", ")})
  --seed N             base seed (default 20260526)
  --workers N          worker threads (default: cores, at most 2; 0 runs in this thread)
  --json [FILE]        write the figures as JSON to FILE (default: print JSON instead of tables)
  --help               this text

Full run (the figures quoted in docs): 4 000 A/A and 1 000 regression replicates per cell.

BENCH_HARM_PLUGIN="weight,prior,target" sets the ours-plugin judge's plug-in (default 1,4,2; see
docs/judge-benchmark.md "Round 3").`;

function list(text: string | undefined, fallback: readonly number[]): number[] {
  if (!text) return [...fallback];
  return text.split(",").map((s) => {
    const n = Number(s.trim());
    if (!Number.isFinite(n) || n <= 0) throw new Error(`not a positive number: ${s}`);
    return n;
  });
}

async function main(): Promise<void> {
  // A bare "--json" (no file, or followed by another option) prints JSON instead of tables.
  const args = process.argv
    .slice(2)
    .map((a, i, all) => (a === "--json" && (all[i + 1] ?? "--").startsWith("--") ? "--json=" : a));
  const { values } = parseArgs({
    args,
    options: {
      quick: { type: "boolean", default: false },
      replicates: { type: "string" },
      scenario: { type: "string", multiple: true, default: [] },
      traffic: { type: "string" },
      looks: { type: "string" },
      judges: { type: "string" },
      seed: { type: "string", default: "20260526" },
      workers: { type: "string" },
      json: { type: "string" },
      help: { type: "boolean", default: false },
    },
    allowPositionals: false,
    strict: true,
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const jsonFlag = values.json !== undefined;
  const jsonFile = values.json && values.json.length > 0 ? values.json : undefined;

  const scenarios = selectScenarios(values.scenario ?? []);
  if (scenarios.length === 0) throw new Error(`no scenario matches ${(values.scenario ?? []).join(", ")}`);
  const judges = values.judges ? values.judges.split(",").map((s) => s.trim()) : ALL_JUDGES.map((j) => j.id);
  for (const j of judges) if (!judgesById.has(j)) throw new Error(`unknown judge ${j}`);
  const replicates = values.replicates !== undefined ? Number(values.replicates) : undefined;
  if (replicates !== undefined && !(Number.isInteger(replicates) && replicates > 0))
    throw new Error("--replicates needs a positive integer");
  const workers = values.workers !== undefined ? Number(values.workers) : Math.min(2, availableParallelism());

  const opts = {
    aaReplicates: replicates ?? (values.quick ? 30 : 4_000),
    regressionReplicates: replicates ?? (values.quick ? 15 : 1_000),
    scenarios,
    traffic: list(values.traffic, TRAFFIC_RPS),
    looks: list(values.looks, LOOK_CADENCES),
    seed: Number(values.seed),
    judges,
    workers,
    onProgress: (done: number, total: number) => {
      if (process.stderr.isTTY) process.stderr.write(`\r${done}/${total} chunks`);
    },
  };
  const started = Date.now();
  const summaries = await runBenchmark(opts);
  if (process.stderr.isTTY) process.stderr.write("\n");
  const seconds = (Date.now() - started) / 1000;
  const targets = checkTargets(summaries);
  const meta = {
    seed: opts.seed,
    aaReplicates: opts.aaReplicates,
    regressionReplicates: opts.regressionReplicates,
    traffic: opts.traffic,
    looks: opts.looks,
    judges,
    seconds,
  };
  const json = JSON.stringify({ meta, targets, cells: summaries }, null, 2);
  if (jsonFile) writeFileSync(jsonFile, `${json}\n`);
  if (jsonFlag && !jsonFile) {
    process.stdout.write(`${json}\n`);
    return;
  }
  process.stdout.write(
    `# Judge benchmark\n\nseed ${meta.seed}; ${meta.aaReplicates} A/A and ${meta.regressionReplicates} regression replicates per cell; ${seconds.toFixed(0)} s\n\n`,
  );
  process.stdout.write(
    `## Targets for our judge\n\n${renderTargets(targets)}\n\n## Results\n\n${renderTables(summaries)}\n`,
  );
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 2;
});
