import { spawn, spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { listAudit } from "../../mcp-server/ledger/audit.js";
import { listDecisions } from "../../mcp-server/ledger/decisions.js";
import { getDeployment } from "../../mcp-server/ledger/deployments.js";
import { openLedger } from "../../mcp-server/ledger/open.js";
import { CLI, REPO, runCli, tempDir } from "../support/cli.js";
import { startLoad, startMetricsService } from "../support/metrics-service.js";
import { type RunningServer, startPrometheus } from "../support/prometheus.js";

// End to end on the real clock: a real HTTP service routes users with createAssigner and exposes
// per-cohort metrics, a real Prometheus scrapes it every second, and `canary watch` pulls the
// slices from Prometheus on its own (no ingest call anywhere) to a rollback or to completion.

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function runWatch(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd: REPO,
      env: { ...process.env, NO_COLOR: "1" },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    child.on("error", reject);
    child.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

async function live(id: string, canaryErrorRate: number) {
  const dir = tempDir();
  const ledger = join(dir, "ledger.db");
  let percent = 20;
  const service = await startMetricsService({
    deploymentId: id,
    percent: () => percent,
    errorRate: { canary: canaryErrorRate, control: 0.05 },
    latencyMs: { canary: 20, control: 20 },
  });
  cleanups.push(() => service.close());
  const lint = spawnSync("promtool", ["check", "metrics"], { input: service.exposition(), encoding: "utf8" });
  expect(lint.status, lint.stdout + lint.stderr).toBe(0);
  const prom: RunningServer = await startPrometheus({
    config: `global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n  - job_name: checkout\n    static_configs:\n      - targets: ["127.0.0.1:${service.port}"]\n`,
  });
  cleanups.push(() => prom.stop());
  const load = startLoad(service.url, 200);
  cleanups.push(() => load.stop());
  const policy = join(dir, "policy.json");
  const q = (extra = "") =>
    `sum(increase(http_requests_total{deployment="{{deployment}}",cohort="{{cohort}}"${extra}}[{{slice}}]))`;
  writeFileSync(
    policy,
    JSON.stringify({
      service: "checkout",
      slice: "10s",
      check_every: "10s",
      ladder: [{ percent: 20, window: "1m" }, { percent: 100 }],
      metrics: [
        {
          name: "error_rate",
          type: "ratio",
          events: "http_errors",
          trials: "http_requests",
          bad: "increase",
          tolerance: { relative: 0 },
          margin: { relative: 1 },
        },
        {
          name: "latency",
          type: "histogram",
          series: "http_latency_ms",
          percentiles: [50, 90],
          bad: "increase",
          tolerance: { absolute: 25 },
          critical: false,
        },
      ],
      source: {
        prometheus: { url: prom.url, timeout: "2s" },
        lag: "3s",
        series: {
          http_requests: q(),
          http_errors: q(',code="500"'),
          http_latency_ms:
            'sum by (le) (increase(http_latency_ms_bucket{deployment="{{deployment}}",cohort="{{cohort}}"}[{{slice}}]))',
        },
      },
    }),
  );
  const started = runCli(["start", id, "--policy", policy, "--ledger", ledger, "--json"]);
  expect(started.code, started.stderr).toBe(0);
  // The router follows the deployment's percent, as a gateway polling the routing endpoint would.
  const reader = openLedger(ledger);
  cleanups.push(async () => reader.close());
  const poll = setInterval(() => {
    percent = getDeployment(reader, id).percent;
  }, 200);
  cleanups.push(async () => clearInterval(poll));
  const watched = await runWatch(["watch", id, "--ledger", ledger, "--poll-seconds", "1", "--json"]);
  const d = getDeployment(reader, id);
  const decisions = listDecisions(reader, id, 1000);
  const audit = listAudit(reader, { deploymentId: id, limit: 10_000 }).map((e) => e.action);
  return { watched, state: d.state, decisions, audit };
}

describe("canary watch with a Prometheus source, live", () => {
  it("rolls a worse canary back with no ingest call", async () => {
    const r = await live("live-bad", 0.3);
    expect(r.watched.code, r.watched.stderr).toBe(20);
    expect(r.state).toBe("rolled_back");
    expect(r.decisions.at(-1)?.verdict).toBe("rollback");
    expect(r.decisions.at(-1)?.reasons.map((x) => x.code)).toContain("regression");
    expect(r.audit).toContain("pull_metrics");
    expect(r.audit).not.toContain("record_metrics");
  }, 240_000);

  it("completes a healthy canary", async () => {
    const r = await live("live-ok", 0.05);
    expect(r.watched.code, `${r.watched.stdout}\n${r.watched.stderr}`).toBe(0);
    expect(r.state).toBe("completed");
    expect(r.decisions.map((x) => x.verdict)).not.toContain("rollback");
    expect(r.audit).not.toContain("record_metrics");
  }, 300_000);
});
