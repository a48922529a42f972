import { type ChildProcess, spawn } from "node:child_process";
import { Agent, get } from "node:http";
import { join, resolve } from "node:path";

// Shared by the serve benchmark and the lock test: a second process that holds the ledger's write
// lock, a real `canary serve`, and a prober that measures how long each answer takes.

/** The repository root, from test/bench (sources) or dist/test/bench (built). */
export const REPO = resolve(
  import.meta.dirname,
  import.meta.dirname.endsWith(join("dist", "test", "bench")) ? "../../.." : "../..",
);
export const CLI = resolve(REPO, "dist/cli/main.js");

const HOLDER = `
const Database = require("better-sqlite3");
const [path, ms] = process.argv.slice(-2);
const db = new Database(path, { timeout: 60000 });
db.exec("BEGIN IMMEDIATE");
process.stdout.write("locked\\n");
setTimeout(() => { process.stdout.write("releasing " + Date.now() + "\\n"); db.exec("ROLLBACK"); db.close(); process.exit(0); }, Number(ms));
`;

/**
 * Starts a process holding BEGIN IMMEDIATE on the ledger for `ms`; resolves once it holds it.
 * `releasingAt` is the wall-clock time just before it let go (nothing can write before it).
 */
export function holdWriteLock(
  ledger: string,
  ms: number,
): Promise<{ child: ChildProcess; released: Promise<void>; releasingAt: Promise<number> }> {
  const child = spawn(process.execPath, ["-e", HOLDER, ledger, String(ms)], { cwd: REPO });
  const released = new Promise<void>((r) => child.on("exit", () => r()));
  let output = "";
  let sawReleasing: (t: number) => void = () => undefined;
  const releasingAt = new Promise<number>((r) => {
    sawReleasing = r;
  });
  return new Promise((ok, fail) => {
    child.stdout?.on("data", (d: Buffer) => {
      output += d.toString();
      const m = /releasing (\d+)/.exec(output);
      if (m?.[1]) sawReleasing(Number(m[1]));
      if (d.toString().includes("locked")) ok({ child, released, releasingAt });
    });
    child.on("exit", (code) => fail(new Error(`lock holder exited ${code}`)));
  });
}

/** Starts the built `canary serve` on a free port; resolves with its base URL. */
export function startServe(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ child: ChildProcess; base: string }> {
  const child = spawn(process.execPath, [CLI, "serve", "--port", "0", ...args], {
    cwd: REPO,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "inherit"],
  });
  return new Promise((ok, fail) => {
    let out = "";
    child.stdout?.on("data", (d: Buffer) => {
      out += d.toString();
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m?.[1]) ok({ child, base: m[1] });
    });
    child.on("exit", (code) => fail(new Error(`serve exited ${code}`)));
  });
}

export interface LatencySummary {
  count: number;
  p50: number;
  p99: number;
  max: number;
  failures: number;
}

function summary(ms: number[], failures: number): LatencySummary {
  const sorted = [...ms].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
  return {
    count: sorted.length,
    p50: at(0.5),
    p99: at(0.99),
    max: sorted[sorted.length - 1] ?? Number.NaN,
    failures,
  };
}

/**
 * Asks each URL in turn, one request at a time over keep-alive, until `until` resolves; an answer
 * that is not 2xx/304, or takes over 5 s, counts as a failure.
 */
export async function probe(
  urls: string[],
  until: Promise<unknown>,
): Promise<Record<string, LatencySummary>> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const times = new Map<string, number[]>(urls.map((u) => [u, []]));
  const failures = new Map<string, number>(urls.map((u) => [u, 0]));
  let done = false;
  void until.then(() => {
    done = true;
  });
  while (!done) {
    for (const url of urls) {
      const t0 = performance.now();
      const ok = await new Promise<boolean>((r) => {
        const req = get(url, { agent, timeout: 5_000 }, (res) => {
          res.resume();
          res.on("end", () => r((res.statusCode ?? 0) < 400));
        });
        req.on("timeout", () => req.destroy());
        req.on("error", () => r(false));
      });
      times.get(url)?.push(performance.now() - t0);
      if (!ok) failures.set(url, (failures.get(url) ?? 0) + 1);
    }
  }
  agent.destroy();
  return Object.fromEntries(urls.map((u) => [u, summary(times.get(u) ?? [], failures.get(u) ?? 0)]));
}
