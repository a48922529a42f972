import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import autocannon from "autocannon";
import { CLI, holdWriteLock, probe, REPO, startServe } from "./serve-probe.js";

// `canary serve` under load, against a bare node:http server answering a fixed JSON body, both in
// child processes and driven side by side by autocannon in this one, in the same run. Target: assign and
// routing at least 0.7x the bare server's requests/s, with a 100-metric policy. Then: latency of
// /healthz, routing and assign while a second process holds the ledger's write lock for 30 s
// (CANARY_BENCH_HOLD_MS to change), next to the same probe with no lock.
// Build first: `npm run build && node dist/test/bench/serve.bench.js`.

const SECONDS = Number(process.env.CANARY_BENCH_SECONDS ?? 3);
const ROUNDS = 3;
const HOLD_MS = Number(process.env.CANARY_BENCH_HOLD_MS ?? 30_000);
const TOKEN = "tok-bench-operator-0123456789";

const BARE = `
const http = require("node:http");
const body = JSON.stringify({ cohort: "control", bucket: 4242, percent: 1 });
const server = http.createServer((req, res) => {
  res.writeHead(200, { "content-type": "application/json", "cache-control": "no-store" });
  res.end(body);
});
server.listen(0, "127.0.0.1", () => process.stdout.write("listening on http://127.0.0.1:" + server.address().port + "\\n"));
`;

function policy(metrics: number): Record<string, unknown> {
  return {
    service: "checkout",
    ladder: [{ percent: 1, window: "30m" }, { percent: 5, window: "30m" }, { percent: 100 }],
    metrics: Array.from({ length: metrics }, (_, i) => ({
      name: `metric_${i}`,
      type: "ratio",
      events: `errors_${i}`,
      trials: `requests_${i}`,
      bad: "increase",
      tolerance: { relative: 0.1 },
    })),
  };
}

async function bare(): Promise<{ kill: () => void; base: string; pid: number }> {
  const child = spawn(process.execPath, ["-e", BARE], { stdio: ["ignore", "pipe", "inherit"] });
  const base = await new Promise<string>((ok) => {
    child.stdout?.on("data", (d: Buffer) => {
      const m = /listening on (\S+)/.exec(d.toString());
      if (m?.[1]) ok(m[1]);
    });
  });
  return { kill: () => child.kill(), base, pid: child.pid ?? 0 };
}

interface Run {
  rate: number;
  cpuUsPerRequest: number;
}

/** User plus system CPU time of a process so far, in µs (Linux /proc, clock ticks of 10 ms). */
function cpuUs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
  return (Number(fields[11]) + Number(fields[12])) * 10_000;
}

async function run(url: string, pid: number): Promise<Run> {
  const before = cpuUs(pid);
  const r = await autocannon({ url, connections: 10, duration: SECONDS });
  const cpu = cpuUs(pid) - before;
  if (r.errors || r.non2xx) throw new Error(`${url}: ${r.errors} errors, ${r.non2xx} non-2xx answers`);
  return { rate: r.requests.average, cpuUsPerRequest: cpu / Math.max(1, r.requests.total) };
}

const dir = mkdtempSync(join(tmpdir(), "canary-serve-bench-"));
const ledger = join(dir, "ledger.db");
const policyFile = join(dir, "policy.json");
writeFileSync(policyFile, JSON.stringify(policy(100)));
const started = spawnSync(
  process.execPath,
  [CLI, "start", "web-1", "--policy", policyFile, "--author", "bench@example.com", "--ledger", ledger],
  { cwd: REPO, encoding: "utf8" },
);
if (started.status !== 0) throw new Error(started.stderr);

const baseline = await bare();
const serve = await startServe(["--ledger", ledger], { CANARY_TOKENS: JSON.stringify({ [TOKEN]: "bench" }) });
try {
  const assignUrl = `${serve.base}/v1/deployments/web-1/assign?unit=user-4242`;
  const routingUrl = `${serve.base}/v1/deployments/web-1/routing`;
  // Warm both up, then alternate so drift hits both alike.
  await autocannon({ url: baseline.base, connections: 10, duration: 1 });
  await autocannon({ url: assignUrl, connections: 10, duration: 1 });
  // Rounds of bare, assign, routing, one after another. Each run reports requests/s and the
  // server process's own CPU time per request (from /proc): on a shared, loaded machine the
  // wall-clock rates drift with other work, the CPU cost per request does not. Ratios are against
  // the bare run of the same round; the median round is reported.
  const rounds: { bare: Run; assign: Run; routing: Run }[] = [];
  for (let i = 0; i < ROUNDS; i++)
    rounds.push({
      bare: await run(baseline.base, baseline.pid),
      assign: await run(assignUrl, serve.child.pid ?? 0),
      routing: await run(routingUrl, serve.child.pid ?? 0),
    });
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
  const fmt = (xs: number[], digits = 0) => xs.map((x) => x.toFixed(digits)).join(", ");
  const report = (name: "bare" | "assign" | "routing") => {
    const runs = rounds.map((r) => r[name]);
    const rateRatio = median(rounds.map((r) => r[name].rate / r.bare.rate));
    const cpuRatio = median(rounds.map((r) => r.bare.cpuUsPerRequest / r[name].cpuUsPerRequest));
    return `  ${name.padEnd(8)} ${fmt(runs.map((r) => r.rate))} req/s, ${fmt(
      runs.map((r) => r.cpuUsPerRequest),
      1,
    )} µs CPU/request${name === "bare" ? "" : `: median ${rateRatio.toFixed(2)}x bare by req/s, ${cpuRatio.toFixed(2)}x by requests per CPU-second (target 0.7x)`}\n`;
  };
  process.stdout.write(
    `serve throughput, 10 connections, ${ROUNDS} rounds of ${SECONDS} s, policy with 100 metrics:\n${report("bare")}${report("assign")}${report("routing")}`,
  );

  const urls = ["/healthz", "/v1/deployments/web-1/routing", "/v1/deployments/web-1/assign?unit=u-7"].map(
    (p) => `${serve.base}${p}`,
  );
  const line = (label: string, stats: Awaited<ReturnType<typeof probe>>) => {
    process.stdout.write(`${label}\n`);
    for (const [url, s] of Object.entries(stats))
      process.stdout.write(
        `  ${url.slice(serve.base.length).padEnd(36)} n=${s.count} p50=${s.p50.toFixed(2)} ms p99=${s.p99.toFixed(2)} ms max=${s.max.toFixed(1)} ms failures=${s.failures}\n`,
      );
  };
  line(
    "latency with no lock held (5 s, one request at a time):",
    await probe(urls, new Promise((r) => setTimeout(r, 5_000))),
  );
  const lock = await holdWriteLock(ledger, HOLD_MS);
  // A write through MCP during the hold waits asynchronously (and gives up as Busy after 10 s).
  const write = fetch(`${serve.base}/mcp`, {
    method: "POST",
    headers: {
      authorization: `Bearer ${TOKEN}`,
      "content-type": "application/json",
      accept: "application/json, text/event-stream",
    },
    body: JSON.stringify({
      jsonrpc: "2.0",
      id: 1,
      method: "tools/call",
      params: { name: "pause_deployment", arguments: { deployment_id: "web-1", reason: "bench" } },
    }),
  }).then(async (r) => (await r.text()).slice(0, 160));
  line(
    `latency while another process holds the write lock for ${HOLD_MS / 1000} s:`,
    await probe(urls, lock.released),
  );
  process.stdout.write(`  MCP pause_deployment sent during the hold answered: ${await write}\n`);
} finally {
  serve.child.kill("SIGTERM");
  baseline.kill();
  rmSync(dir, { recursive: true, force: true });
}
