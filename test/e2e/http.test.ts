import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLI, REPO, tempDir } from "../support/cli.js";
import { basicPolicy } from "../support/policies.js";

const TOKEN = "tok-release-lead-0123456789";
const CHROMIUM = "/usr/bin/chromium";

async function startServe(
  ledger: string,
  env: Record<string, string>,
): Promise<{ child: ChildProcess; base: string }> {
  const child = spawn(process.execPath, [CLI, "serve", "--port", "0", "--ledger", ledger], {
    cwd: REPO,
    env: { ...process.env, ...env },
  });
  const base = await new Promise<string>((resolve, reject) => {
    let out = "";
    child.stdout?.on("data", (d: Buffer) => {
      out += d.toString();
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m?.[1]) resolve(m[1]);
    });
    child.on("exit", (code) => reject(new Error(`serve exited ${code}`)));
  });
  return { child, base };
}

async function httpClient(base: string, token?: string): Promise<Client> {
  const client = new Client({ name: "canary-http-e2e", version: "1.0.0" });
  const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
  await client.connect(
    new StreamableHTTPClientTransport(new URL(`${base}/mcp`), { requestInit: { headers } }),
  );
  return client;
}

describe("canary serve (real HTTP, SDK Streamable HTTP client, real browser)", () => {
  let serve: { child: ChildProcess; base: string };
  const ledger = join(tempDir(), "ledger.db");

  beforeAll(async () => {
    serve = await startServe(ledger, {
      CANARY_TOKENS: JSON.stringify({ [TOKEN]: "release-lead@example.com" }),
    });
  });
  afterAll(() => {
    serve?.child.kill("SIGTERM");
  });

  it("refuses MCP without a valid bearer token", async () => {
    const none = await fetch(`${serve.base}/mcp`, { method: "POST", body: "{}" });
    expect(none.status).toBe(401);
    expect(none.headers.get("www-authenticate")).toMatch(/Bearer/);
    await expect(httpClient(serve.base, "tok-wrong-wrong-wrong-wrong")).rejects.toThrow();
  });

  it("serves the tools over Streamable HTTP, acting as the token's owner", async () => {
    const client = await httpClient(serve.base, TOKEN);
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).toEqual(
      expect.arrayContaining(["start_deployment", "compare_metrics", "decide", "rollback"]),
    );
    const started = (await client.callTool({
      name: "start_deployment",
      arguments: { deployment_id: "web-1", policy: basicPolicy(), author: "ana@example.com" },
    })) as CallToolResult;
    expect(started.isError).toBeFalsy();
    const audit = (await client.callTool({
      name: "audit_log",
      arguments: { deployment_id: "web-1" },
    })) as CallToolResult;
    expect((audit.structuredContent as { entries: { actor: string }[] }).entries[0]?.actor).toBe(
      "release-lead@example.com",
    );
    await client.close();
  });

  it("answers routers: deployments, routing with an ETag and 304, assignment", async () => {
    const list = (await (await fetch(`${serve.base}/v1/deployments`)).json()) as {
      deployments: { deployment_id: string }[];
    };
    expect(list.deployments.map((d) => d.deployment_id)).toContain("web-1");
    const routing = await fetch(`${serve.base}/v1/deployments/web-1/routing`);
    expect(routing.status).toBe(200);
    const body = (await routing.json()) as {
      deployment_id: string;
      state: string;
      percent: number;
      seed: number;
      population: unknown;
    };
    expect(body).toMatchObject({ deployment_id: "web-1", state: "canary", percent: 1, population: null });
    expect(Number.isInteger(body.seed)).toBe(true);
    const etag = routing.headers.get("etag");
    expect(etag).toBeTruthy();
    const again = await fetch(`${serve.base}/v1/deployments/web-1/routing`, {
      headers: { "if-none-match": etag! },
    });
    expect(again.status).toBe(304);
    const assign = (await (await fetch(`${serve.base}/v1/deployments/web-1/assign?unit=user-42`)).json()) as {
      cohort: string;
      bucket: number;
      percent: number;
    };
    expect(assign.cohort).toBe(assign.bucket < 100 ? "canary" : "control");
    expect((await fetch(`${serve.base}/v1/deployments/nope/routing`)).status).toBe(404);
    expect((await fetch(`${serve.base}/v1/deployments/web-1/assign`)).status).toBe(400);
    // Starting a deployment over REST needs an operator token; other routes stay read-only.
    expect((await fetch(`${serve.base}/v1/deployments`, { method: "POST" })).status).toBe(401);
    expect((await fetch(`${serve.base}/v1/deployments/web-1/routing`, { method: "POST" })).status).toBe(405);
  });

  // Outside CI a machine without Debian's chromium skips this; in CI it must run (.ci/run installs it).
  it.skipIf(!existsSync(CHROMIUM) && !process.env.CI)(
    "shows people the status page in a real browser",
    async () => {
      const browser = await chromium.launch({
        executablePath: CHROMIUM,
        headless: true,
        args: [
          "--no-sandbox",
          "--disable-gpu",
          "--disable-background-networking",
          "--disable-component-update",
          "--no-first-run",
          "--disable-sync",
        ],
      });
      try {
        const page = await browser.newPage();
        const res = await page.goto(`${serve.base}/`);
        expect(res?.status()).toBe(200);
        expect(await page.title()).toBe("canary-pilot");
        const card = page.locator('[data-deployment="web-1"]');
        await expect.poll(() => card.count()).toBe(1);
        expect(await card.locator('[data-field="state"]').textContent()).toBe("canary");
        expect(await card.locator('[data-field="percent"]').textContent()).toBe("1%");
        expect(await card.locator(".rung.now").textContent()).toBe("1%");
        await page.screenshot({ path: join(tempDir("canary-shot-"), "status.png") });
      } finally {
        await browser.close();
      }
    },
  );
});
