import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { CLI, REPO, runCliAsync, tempDir } from "../support/cli.js";
import { basicPolicy } from "../support/policies.js";
import { type RunningServer, startPrometheus } from "../support/prometheus.js";

// A real Prometheus scrapes a real `canary serve` every second; a promotion made through the CLI
// shows in a PromQL query of canary_deployment_percent, and promtool accepts the exposition.

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function serve(ledger: string): Promise<{ child: ChildProcess; base: string }> {
  const child = spawn(process.execPath, [CLI, "serve", "--port", "0", "--ledger", ledger], {
    cwd: REPO,
    env: { ...process.env },
  });
  return new Promise((resolve, reject) => {
    let out = "";
    child.stdout?.on("data", (d: Buffer) => {
      out += d.toString();
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m?.[1]) resolve({ child, base: m[1] });
    });
    child.on("exit", (code) => reject(new Error(`serve exited ${code}`)));
  });
}

async function percentSeen(prom: string, id: string): Promise<number | undefined> {
  const q = encodeURIComponent(`canary_deployment_percent{deployment="${id}"}`);
  const body = (await (await fetch(`${prom}/api/v1/query?query=${q}`)).json()) as {
    data: { result: { value: [number, string] }[] };
  };
  const v = body.data.result[0]?.value[1];
  return v === undefined ? undefined : Number(v);
}

describe("a real Prometheus scrapes canary serve's /metrics", () => {
  let server: { child: ChildProcess; base: string } | undefined;
  let prom: RunningServer | undefined;
  afterAll(async () => {
    server?.child.kill("SIGTERM");
    await prom?.stop();
  });

  it("sees the percent change after a promotion, and promtool accepts the exposition", async () => {
    const dir = tempDir();
    const ledger = join(dir, "ledger.db");
    const policy = join(dir, "policy.json");
    writeFileSync(policy, JSON.stringify(basicPolicy()));
    const env = { CANARY_ACTOR: "release-lead@example.com" };
    expect(
      (await runCliAsync(["start", "pay-1", "--policy", policy, "--ledger", ledger], { env })).code,
    ).toBe(0);
    server = await serve(ledger);
    const target = new URL(server.base).host;
    prom = await startPrometheus({
      config: `global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: canary\n    static_configs:\n      - targets: ["${target}"]\n`,
    });

    const text = await (await fetch(`${server.base}/metrics`)).text();
    const lint = spawnSync("promtool", ["check", "metrics"], { input: text, encoding: "utf8" });
    expect(lint.status, `${lint.stdout}${lint.stderr}`).toBe(0);

    let before: number | undefined;
    for (let i = 0; i < 60 && before === undefined; i++) {
      await sleep(500);
      before = await percentSeen(prom.url, "pay-1");
    }
    expect(before).toBe(1);
    const promoted = await runCliAsync(
      ["promote", "pay-1", "--override", "release train", "--ledger", ledger],
      { env },
    );
    expect(promoted.code, promoted.stderr).toBe(0);
    let after = before;
    for (let i = 0; i < 60 && after === before; i++) {
      await sleep(500);
      after = await percentSeen(prom.url, "pay-1");
    }
    expect(after).toBe(5);
  }, 120_000);
});
