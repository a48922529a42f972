import { execFileSync } from "node:child_process";
import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { connect } from "node:net";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { openContext } from "../../mcp-server/cli/context.js";
import { allowedHosts } from "../../mcp-server/http/hosts.js";
import { createHttpServer } from "../../mcp-server/http/server.js";
import { parseTokens } from "../../mcp-server/http/tokens.js";
import type { OperationContext } from "../../mcp-server/operations/context.js";
import { policyDirectory } from "../../mcp-server/operations/policy-files.js";
import { runCli, tempDir } from "../support/cli.js";
import { basicPolicy } from "../support/policies.js";

// A real `canary serve` HTTP server (in this process, real sockets, real SQLite) under hostile
// requests: each is answered with the right status and the server keeps answering others.

const OPERATOR = "tok-operator-0123456789abcdef";
const VIEWER = "tok-viewer-0123456789abcdef";
const TOKENS_JSON = JSON.stringify({
  [OPERATOR]: "release-lead@example.com",
  [VIEWER]: { actor: "auditor@example.com", role: "viewer" },
});

/** Sends raw bytes and collects everything the server answers until it closes (or `waitMs`). */
function raw(
  port: number,
  chunks: string[],
  opts: { gapMs?: number; waitMs?: number } = {},
): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    let out = "";
    const done = () => {
      socket.destroy();
      resolve(out);
    };
    socket.on("data", (d) => {
      out += d.toString("latin1");
    });
    socket.on("close", done);
    socket.on("error", done);
    setTimeout(done, opts.waitMs ?? 5_000);
    socket.on("connect", async () => {
      for (const c of chunks) {
        if (socket.destroyed) return;
        socket.write(c);
        if (opts.gapMs) await new Promise((r) => setTimeout(r, opts.gapMs));
      }
    });
  });
}

function statusOf(response: string): number {
  return Number(/^HTTP\/1\.1 (\d{3})/.exec(response)?.[1] ?? 0);
}

describe("canary serve against hostile requests (real sockets, real ledger)", () => {
  const dir = tempDir();
  const policies = join(dir, "policies");
  const outside = join(dir, "outside");
  let ctx: OperationContext;
  let server: Server;
  let base: string;
  let port: number;

  beforeAll(async () => {
    mkdirSync(policies);
    mkdirSync(outside);
    writeFileSync(join(policies, "good.yaml"), stringify(basicPolicy()));
    writeFileSync(join(policies, "typo.yaml"), stringify(basicPolicy({ aplha: 0.05 })));
    writeFileSync(join(policies, "huge.yaml"), `service: x\n#${"x".repeat(300 * 1024)}\n`);
    execFileSync("mkfifo", [join(policies, "fifo.yaml")]);
    // A valid policy outside the directory: were it ever read, validate_policy would say valid.
    writeFileSync(join(outside, "valid-outside.yaml"), stringify(basicPolicy()));
    writeFileSync(join(outside, "tokens.json"), TOKENS_JSON);
    symlinkSync(join(outside, "valid-outside.yaml"), join(policies, "escape.yaml"));
    symlinkSync("/dev/urandom", join(policies, "random.yaml"));
    mkdirSync(join(policies, "sub"));
    ctx = await openContext({ ledger: join(dir, "ledger.db") });
    server = createHttpServer({
      ctx,
      tokens: parseTokens(TOKENS_JSON, "CANARY_TOKENS"),
      allowedHosts: allowedHosts("127.0.0.1", ["canary.internal"]),
      policyFiles: policyDirectory(policies),
      limits: { headersTimeoutMs: 400, requestTimeoutMs: 800, maxBodyBytes: 64 * 1024 },
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    port = (server.address() as AddressInfo).port;
    base = `http://127.0.0.1:${port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    ctx.ledger.close();
  });

  async function alive(): Promise<void> {
    const r = await fetch(`${base}/healthz`);
    expect(r.status).toBe(200);
  }

  async function client(token: string): Promise<Client> {
    const c = new Client({ name: "hostile-test", version: "1.0.0" });
    await c.connect(
      new StreamableHTTPClientTransport(new URL(`${base}/mcp`), {
        requestInit: { headers: { authorization: `Bearer ${token}` } },
      }),
    );
    return c;
  }

  it("answers malformed request lines and bad percent-encodings with 400 and stays up", async () => {
    const host = `Host: 127.0.0.1:${port}\r\nConnection: close\r\n\r\n`;
    for (const line of [
      "GET /% HTTP/1.1",
      "GET /mcp% HTTP/1.1",
      "GET /v1/deployments/%E0%A4%A HTTP/1.1",
      "GET http://[::1 HTTP/1.1",
      "GET * HTTP/1.1",
    ]) {
      const res = await raw(port, [`${line}\r\n${host}`]);
      expect(statusOf(res), line).toBe(400);
      await alive();
    }
    for (const junk of [
      "HELLO\r\n\r\n",
      "GET / HTTP/9.9\r\n\r\n",
      "\u0000\u0001\u0002\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nBad Header\r\n\r\n",
    ]) {
      const res = await raw(port, [junk]);
      expect(statusOf(res), JSON.stringify(junk)).toBe(400);
      await alive();
    }
  });

  it("cuts off huge headers (431) and huge bodies (413)", async () => {
    const big = await raw(port, [
      `GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ${"a".repeat(20_000)}\r\n\r\n`,
    ]);
    expect(statusOf(big)).toBe(431);
    const body = await fetch(`${base}/mcp`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${OPERATOR}`,
        "content-type": "application/json",
        accept: "application/json, text/event-stream",
      },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "ping", params: { pad: "x".repeat(100_000) } }),
    });
    expect(body.status).toBe(413);
    await alive();
  });

  it("cuts off slow headers and slow bodies while answering everyone else", async () => {
    const slowHeaders = raw(
      port,
      ["GET /healthz HTTP/1.1\r\n", "Host: 127.0.0.1\r\n", "X-A: 1\r\n", "X-B: 2\r\n", "X-C: 3\r\n"],
      { gapMs: 300, waitMs: 4_000 },
    );
    const slowBody = raw(
      port,
      [
        `POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${OPERATOR}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{`,
        '"a',
        '":',
        "1",
      ],
      { gapMs: 500, waitMs: 4_000 },
    );
    await alive();
    const [h, b] = await Promise.all([slowHeaders, slowBody]);
    expect(statusOf(h)).toBe(408);
    // The body timeout either answers 408 or closes the connection; either way nothing succeeds.
    expect([0, 408]).toContain(statusOf(b));
    expect(b).not.toMatch(/HTTP\/1\.1 2\d\d/);
    await alive();
  });

  it("answers foreign Host and Origin with 403 on every route, and allowed names with 200", async () => {
    for (const path of ["/", "/healthz", "/v1/deployments", "/mcp"]) {
      const res = await raw(port, [
        `GET ${path} HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n`,
      ]);
      expect(statusOf(res), path).toBe(403);
    }
    const noHost = await raw(port, ["GET /healthz HTTP/1.0\r\n\r\n"]);
    expect(statusOf(noHost)).toBe(400);
    const mcp = await fetch(`${base}/mcp`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${OPERATOR}`,
        origin: "http://evil.example",
        "content-type": "application/json",
      },
      body: "{}",
    });
    expect(mcp.status).toBe(403);
    const nullOrigin = await fetch(`${base}/healthz`, { headers: { origin: "null" } });
    expect(nullOrigin.status).toBe(403);
    const own = await fetch(`${base}/healthz`, { headers: { origin: base } });
    expect(own.status).toBe(200);
    for (const host of [
      "localhost",
      `localhost:${port}`,
      "[::1]:9",
      "canary.internal",
      "CANARY.internal:80",
    ]) {
      const res = await raw(port, [`GET /healthz HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`]);
      expect(statusOf(res), host).toBe(200);
    }
  });

  it("refuses MCP without a token or with a wrong one, and refuses viewers every tool that acts", async () => {
    for (const auth of [undefined, "Bearer tok-wrong-0123456789abcdef", "Basic abc", `Bearer ${OPERATOR}x`]) {
      const r = await fetch(`${base}/mcp`, {
        method: "POST",
        headers: { "content-type": "application/json", ...(auth ? { authorization: auth } : {}) },
        body: "{}",
      });
      expect(r.status, String(auth)).toBe(401);
    }
    const viewer = await client(VIEWER);
    const refused = (await viewer.callTool({
      name: "start_deployment",
      arguments: { deployment_id: "web-viewer", policy: basicPolicy(), author: "ana@example.com" },
    })) as CallToolResult;
    expect(refused.isError).toBe(true);
    expect(JSON.stringify(refused.content)).toMatch(/operator token.*viewer/);
    const read = (await viewer.callTool({
      name: "validate_policy",
      arguments: { policy: basicPolicy() },
    })) as CallToolResult;
    expect((read.structuredContent as { valid: boolean }).valid).toBe(true);
    await viewer.close();
    const operator = await client(OPERATOR);
    const started = (await operator.callTool({
      name: "start_deployment",
      arguments: { deployment_id: "web-1", policy: "good.yaml", author: "ana@example.com" },
    })) as CallToolResult;
    expect(started.isError).toBeFalsy();
    await operator.close();
    const routing = await fetch(`${base}/v1/deployments/web-1/routing`);
    expect(routing.status).toBe(200);
    expect(((await routing.json()) as { percent: number }).percent).toBe(1);
    expect((await fetch(`${base}/v1/deployments/nope/routing`)).status).toBe(404);
    expect((await fetch(`${base}/v1/deployments/web-1/assign?unit=u-1`)).status).toBe(200);
    expect((await fetch(`${base}/v1/deployments/web-1/assign`)).status).toBe(400);
    expect((await fetch(`${base}/v1/deployments/web-1`, { method: "DELETE" })).status).toBe(405);
  });

  it("reads policy paths only under --policies, regular and small, and never echoes another file", async () => {
    const c = await client(VIEWER);
    const validate = async (policy: string) => {
      const r = (await c.callTool({ name: "validate_policy", arguments: { policy } })) as CallToolResult;
      return r.structuredContent as { valid: boolean; errors: { message: string }[] };
    };
    expect((await validate("good.yaml")).valid).toBe(true);
    expect((await validate(join(policies, "good.yaml"))).valid).toBe(true);
    // A policy inside the directory is quoted: its misspelt field is named.
    expect(JSON.stringify((await validate("typo.yaml")).errors)).toMatch(/aplha/);
    const hostile = [
      "../outside/tokens.json",
      join(outside, "tokens.json"),
      join(outside, "valid-outside.yaml"),
      "escape.yaml",
      "random.yaml",
      "/dev/urandom",
      "/dev/zero",
      "/etc/passwd",
      "/etc/shadow",
      "fifo.yaml",
      "huge.yaml",
      "sub",
      "missing.yaml",
      ".",
      "..",
    ];
    const answers: string[] = [];
    const messages: string[] = [];
    for (const p of hostile) {
      const out = await validate(p);
      expect(out.valid, p).toBe(false);
      answers.push(JSON.stringify(out));
      messages.push((out.errors[0]?.message ?? "").replace(JSON.stringify(p), "PATH"));
    }
    const all = answers.join("\n");
    expect(all).not.toMatch(/tok-|root:|release-lead|EISDIR|ENOENT|EACCES/);
    // Refusals of paths outside, missing or not regular read alike: they reveal nothing about what exists.
    const alike = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 12, 13, 14].map((i) => messages[i]);
    expect(new Set(alike).size).toBe(1);
    expect(answers[10]).toMatch(/at most 262144 bytes/);
    await c.close();
    await alive();
  });

  it("reads no policy file at all without --policies", async () => {
    const bare = createHttpServer({
      ctx,
      tokens: parseTokens(TOKENS_JSON, "CANARY_TOKENS"),
      allowedHosts: allowedHosts("127.0.0.1"),
      policyFiles: policyDirectory(undefined),
    });
    await new Promise<void>((r) => bare.listen(0, "127.0.0.1", () => r()));
    const c = new Client({ name: "hostile-test", version: "1.0.0" });
    await c.connect(
      new StreamableHTTPClientTransport(
        new URL(`http://127.0.0.1:${(bare.address() as AddressInfo).port}/mcp`),
        {
          requestInit: { headers: { authorization: `Bearer ${VIEWER}` } },
        },
      ),
    );
    const r = (await c.callTool({
      name: "validate_policy",
      arguments: { policy: join(policies, "good.yaml") },
    })) as CallToolResult;
    expect(JSON.stringify(r.structuredContent)).toMatch(/without --policies DIR/);
    await c.close();
    bare.closeAllConnections();
    await new Promise((res) => bare.close(res));
  });

  it("refuses to bind beyond loopback without tokens unless --insecure-no-auth", () => {
    const r = runCli(["serve", "--host", "0.0.0.0", "--port", "0", "--ledger", join(dir, "other.db")], {
      env: { CANARY_TOKENS: "" },
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--insecure-no-auth/);
  });
});
