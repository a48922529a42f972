import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { createServer, request as httpRequest } from "node:http";
import { createServer as netServer } from "node:net";
import { join } from "node:path";
import { tempDir } from "./cli.js";

// A real Prometheus for tests: backfill OpenMetrics into an empty data dir with promtool, start
// prometheus on a free loopback port and wait for /-/ready. There is no skip: when prometheus
// is missing the suite fails, so CI cannot pass without having talked to the real thing.

export interface RunningServer {
  url: string;
  port: number;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = netServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const addr = s.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      s.close(() => resolve(port));
    });
  });
}

function need(bin: string): string {
  const found = spawnSync("sh", ["-c", `command -v ${bin}`], { encoding: "utf8" }).stdout.trim();
  if (!found)
    throw new Error(
      `${bin} is not installed: these tests need the real server (Debian: apt-get install prometheus victoria-metrics)`,
    );
  return found;
}

async function waitReady(url: string, child: ChildProcess, log: () => string): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}: ${log()}`);
    try {
      const res = await fetch(url);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`server not ready at ${url} after 30 s: ${log()}`);
}

function stopper(child: ChildProcess): () => Promise<void> {
  return () =>
    new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once("exit", () => resolve());
      child.kill("SIGTERM");
      setTimeout(() => child.kill("SIGKILL"), 5000).unref();
    });
}

export interface PrometheusOptions {
  /** OpenMetrics text (timestamps in seconds, ending with # EOF) backfilled before start. */
  openmetrics?: string;
  /** prometheus.yml text (default: no scrape targets). */
  config?: string;
}

export async function startPrometheus(options: PrometheusOptions = {}): Promise<RunningServer> {
  const prometheus = need("prometheus");
  const dir = tempDir("canary-prom-");
  const data = join(dir, "data");
  mkdirSync(data);
  if (options.openmetrics !== undefined) {
    const promtool = need("promtool");
    const file = join(dir, "fixture.om");
    writeFileSync(file, options.openmetrics);
    const r = spawnSync(promtool, ["tsdb", "create-blocks-from", "openmetrics", file, data], {
      encoding: "utf8",
    });
    if (r.status !== 0) throw new Error(`promtool backfill failed: ${r.stderr || r.stdout}`);
  }
  const config = join(dir, "prometheus.yml");
  writeFileSync(config, options.config ?? "global:\n  scrape_interval: 15s\n");
  const port = await freePort();
  let log = "";
  const child = spawn(
    prometheus,
    [
      `--config.file=${config}`,
      `--storage.tsdb.path=${data}`,
      "--storage.tsdb.retention.time=100y",
      `--web.listen-address=127.0.0.1:${port}`,
    ],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  child.stderr?.on("data", (d: Buffer) => {
    log = (log + d.toString()).slice(-4000);
  });
  const url = `http://127.0.0.1:${port}`;
  await waitReady(`${url}/-/ready`, child, () => log);
  return { url, port, stop: stopper(child) };
}

/** VictoriaMetrics single-node, empty; import with importPrometheus. */
export async function startVictoriaMetrics(): Promise<RunningServer> {
  const vm = need("victoria-metrics");
  const dir = tempDir("canary-vm-");
  const port = await freePort();
  let log = "";
  const child = spawn(
    vm,
    [
      `-storageDataPath=${dir}`,
      `-httpListenAddr=127.0.0.1:${port}`,
      "-retentionPeriod=100y",
      "-search.latencyOffset=0s",
    ],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  child.stderr?.on("data", (d: Buffer) => {
    log = (log + d.toString()).slice(-4000);
  });
  const url = `http://127.0.0.1:${port}`;
  await waitReady(`${url}/health`, child, () => log);
  return { url, port, stop: stopper(child) };
}

/** Imports Prometheus text exposition lines (timestamps in ms) into VictoriaMetrics and flushes. */
export async function importVictoriaMetrics(url: string, text: string): Promise<void> {
  const res = await fetch(`${url}/api/v1/import/prometheus`, { method: "POST", body: text });
  if (!res.ok) throw new Error(`import failed: ${res.status} ${await res.text()}`);
  await fetch(`${url}/internal/force_flush`);
}

/** A proxy that waits before forwarding: a slow Prometheus. */
export async function startDelayingProxy(target: string, delayMs: number): Promise<RunningServer> {
  const t = new URL(target);
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const timer = setTimeout(() => {
        const up = httpRequest(
          { host: t.hostname, port: t.port, path: req.url, method: req.method, headers: req.headers },
          (upRes) => {
            res.writeHead(upRes.statusCode ?? 502, upRes.headers);
            upRes.pipe(res);
          },
        );
        up.on("error", () => res.destroy());
        up.end(Buffer.concat(chunks));
      }, delayMs);
      res.on("close", () => clearTimeout(timer));
    });
  });
  const port = await freePort();
  await new Promise<void>((r) => server.listen(port, "127.0.0.1", () => r()));
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    stop: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** A small HTTP server that records requests it gets (to count queries). */
export async function startCountingProxy(
  target: string,
): Promise<RunningServer & { count: () => number; paths: () => string[] }> {
  const t = new URL(target);
  const paths: string[] = [];
  const server = createServer((req, res) => {
    paths.push(req.url ?? "");
    const up = httpRequest(
      { host: t.hostname, port: t.port, path: req.url, method: req.method, headers: req.headers },
      (upRes) => {
        res.writeHead(upRes.statusCode ?? 502, upRes.headers);
        upRes.pipe(res);
      },
    );
    up.on("error", () => res.destroy());
    req.pipe(up);
  });
  const port = await freePort();
  await new Promise<void>((r) => server.listen(port, "127.0.0.1", () => r()));
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    count: () => paths.length,
    paths: () => [...paths],
    stop: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
