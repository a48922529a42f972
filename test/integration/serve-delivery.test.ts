import { type ChildProcess, spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openLedger } from "../../mcp-server/ledger/open.js";
import { listOutbox } from "../../mcp-server/ledger/outbox.js";
import { CLI, REPO, runCliAsync, tempDir } from "../support/cli.js";
import { basicPolicy } from "../support/policies.js";

// A real `canary serve` delivers to real receivers on loopback: one hangs, one answers 500, one
// redirects, one is healthy, one is slow, and a Slack-format one. The healthy ones are not held up
// by the hanging one; a SIGTERM while a message is in flight finishes it; nothing is sent twice.

interface Hit {
  path: string;
  key: string;
  body: string;
}

function receivers(): Promise<{
  server: Server;
  url: string;
  hits: Hit[];
  hanging: ServerResponse[];
  slowArrived: Promise<void>;
}> {
  const hits: Hit[] = [];
  const hanging: ServerResponse[] = [];
  let slowSeen: () => void = () => undefined;
  const slowArrived = new Promise<void>((r) => {
    slowSeen = r;
  });
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let body = "";
    req.on("data", (c: Buffer) => {
      body += c.toString();
    });
    req.on("end", () => {
      const path = req.url ?? "";
      hits.push({ path, key: String(req.headers["idempotency-key"]), body });
      if (path === "/hang") return void hanging.push(res);
      if (path === "/fail") return void res.writeHead(500).end();
      if (path === "/redirect") return void res.writeHead(302, { location: "/moved" }).end();
      if (path === "/slow") {
        slowSeen();
        return void setTimeout(() => res.writeHead(200).end("ok"), 1_500);
      }
      res.writeHead(200).end("ok");
    });
  });
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () =>
      resolve({
        server,
        url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        hits,
        hanging,
        slowArrived,
      }),
    ),
  );
}

function serve(ledger: string, env: Record<string, string>): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    [CLI, "serve", "--port", "0", "--ledger", ledger, "--public-url", "https://canary.example.test/"],
    { cwd: REPO, env: { ...process.env, ...env } },
  );
  return new Promise((resolve, reject) => {
    child.stdout?.on("data", (d: Buffer) => {
      if (/listening on/.test(d.toString())) resolve(child);
    });
    child.on("exit", (code) => reject(new Error(`serve exited ${code}`)));
  });
}

const exited = (child: ChildProcess) =>
  new Promise<number | null>((r) => child.on("exit", (code) => r(code)));

async function until(what: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!what()) {
    if (Date.now() > end) throw new Error("timed out waiting");
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe("canary serve delivers notifications in parallel, once per key (real receivers, real SIGTERM)", () => {
  let rx: Awaited<ReturnType<typeof receivers>>;
  beforeAll(async () => {
    rx = await receivers();
  });
  afterAll(() => {
    for (const r of rx.hanging) r.destroy();
    rx.server.closeAllConnections();
    rx.server.close();
  });

  it("reaches the healthy receivers while another hangs, refuses redirects, and sends nothing twice across a SIGTERM", async () => {
    const dir = tempDir();
    const ledger = join(dir, "ledger.db");
    const names = ["HANG", "FAIL", "REDIRECT", "HEALTHY", "SLOW"];
    const policyFile = join(dir, "policy.json");
    writeFileSync(
      policyFile,
      JSON.stringify(
        basicPolicy({
          notify: [
            ...names.map((n) => ({ type: "webhook", url_env: `RX_${n}` })),
            { type: "slack", url_env: "RX_SLACK" },
          ],
        }),
      ),
    );
    const env: Record<string, string> = { RX_SLACK: `${rx.url}/slack` };
    for (const n of names) env[`RX_${n}`] = `${rx.url}/${n.toLowerCase()}`;
    const started = await runCliAsync(
      ["start", "d1", "--policy", policyFile, "--author", "ana@example.com", "--ledger", ledger],
      { env },
    );
    expect(started.code, started.stderr).toBe(0);

    const first = await serve(ledger, env);
    await until(() => rx.hits.some((h) => h.path === "/healthy"), 15_000);
    // Parallel: the healthy receiver has its message while the hanging one is still waiting.
    expect(rx.hanging.length).toBe(1);
    expect(rx.hanging[0]?.writableEnded).toBe(false);
    await rx.slowArrived;
    // SIGTERM while the slow receiver is still answering: the delivery is finished, not dropped.
    const code = exited(first);
    first.kill("SIGTERM");
    expect(await code).toBe(0);

    const second = await serve(ledger, env);
    // One more delivery cycle: nothing due may be sent again.
    await new Promise((r) => setTimeout(r, 6_000));
    const code2 = exited(second);
    second.kill("SIGTERM");
    expect(await code2).toBe(0);

    const byPath = (p: string) => rx.hits.filter((h) => h.path === p);
    // Answered (or refused for good) once, never again; the hanging and failing ones may be retried.
    for (const p of ["/healthy", "/slow", "/slack", "/redirect"]) expect(byPath(p).length, p).toBe(1);
    for (const p of ["/hang", "/fail"]) expect(byPath(p).length, p).toBeGreaterThanOrEqual(1);
    expect(byPath("/moved")).toHaveLength(0);

    const view = openLedger(ledger, { access: "read" });
    const outbox = new Map(listOutbox(view, "d1").map((m) => [m.target, m]));
    view.close();
    const at = (i: number) => outbox.get(`notify[${i}]`);
    expect(at(3)?.delivered_at).not.toBeNull(); // healthy
    expect(at(4)?.delivered_at).not.toBeNull(); // slow, in flight at SIGTERM
    expect(at(5)?.delivered_at).not.toBeNull(); // slack
    expect(at(0)?.last_error).toMatch(/no answer within/);
    expect(at(1)?.last_error).toMatch(/HTTP 500/);
    expect(at(2)?.last_error).toMatch(/HTTP 302 \(a redirect\)/);
    expect(at(2)?.next_attempt_at).toBe(Number.MAX_SAFE_INTEGER);
    for (const m of outbox.values()) expect(m.last_error ?? "").not.toContain("127.0.0.1");

    const slack = (JSON.parse(byPath("/slack")[0]?.body ?? "{}") as { text: string }).text;
    expect(slack).toContain("<https://canary.example.test/deployments/d1|d1>");
    expect(slack).not.toContain("canary://");
  });
});
