import { createHmac } from "node:crypto";
import { writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCliAsync, tempDir } from "../support/cli.js";
import { basicPolicy } from "../support/policies.js";

interface Received {
  path: string;
  headers: IncomingMessage["headers"];
  body: string;
}

/** A real HTTP receiver on loopback: answers with the status the test asks for per path. */
function receiver(): Promise<{
  server: Server;
  url: string;
  received: Received[];
  status: Map<string, number>;
}> {
  const received: Received[] = [];
  const status = new Map<string, number>();
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => {
      body += c.toString();
    });
    req.on("end", () => {
      received.push({ path: req.url ?? "", headers: req.headers, body });
      res.statusCode = status.get(req.url ?? "") ?? 200;
      res.end("ok");
    });
  });
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () =>
      resolve({
        server,
        url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        received,
        status,
      }),
    ),
  );
}

describe("notifications reach a real webhook receiver (outbox delivery)", () => {
  let rx: Awaited<ReturnType<typeof receiver>>;
  beforeAll(async () => {
    rx = await receiver();
  });
  afterAll(() => rx.server.close());

  it("delivers signed webhook and Slack-format messages once, and retries a failing receiver without touching the deployment", async () => {
    const dir = tempDir();
    const ledger = join(dir, "ledger.db");
    const policyFile = join(dir, "policy.json");
    writeFileSync(
      policyFile,
      JSON.stringify(
        basicPolicy({
          notify: [
            { type: "webhook", url_env: "HOOK_URL", secret_env: "HOOK_SECRET" },
            { type: "slack", url_env: "SLACK_URL" },
          ],
        }),
      ),
    );
    const env = {
      HOOK_URL: `${rx.url}/hook`,
      HOOK_SECRET: "topsecret",
      SLACK_URL: `${rx.url}/slack`,
      CANARY_ACTOR: "dev@example.com",
    };
    rx.status.set("/slack", 500);
    const started = await runCliAsync(
      ["start", "d1", "--policy", policyFile, "--author", "ana@example.com", "--ledger", ledger],
      { env },
    );
    expect(started.code, started.stderr).toBe(0);

    const tick = await runCliAsync(["tick", "--json", "--ledger", ledger], { env });
    expect(tick.code, tick.stderr).toBe(0);
    const out = JSON.parse(tick.stdout) as {
      notifications: { delivered: number; failed: number; errors: { error: string }[] };
    };
    expect(out.notifications.delivered).toBe(1);
    expect(out.notifications.failed).toBe(1);
    expect(out.notifications.errors[0]?.error).toMatch(/HTTP 500/);
    expect(tick.stdout + tick.stderr).not.toContain(rx.url);

    const hook = rx.received.find((r) => r.path === "/hook");
    expect(hook).toBeDefined();
    const payload = JSON.parse(hook!.body) as Record<string, unknown>;
    expect(payload).toMatchObject({
      event: "started",
      deployment_id: "d1",
      state: "canary",
      step: 0,
      percent: 1,
      author: "ana@example.com",
    });
    expect(payload.idempotency_key).toBe(hook!.headers["idempotency-key"]);
    expect(payload.audit_head).toMatch(/^[0-9a-f]{64}$/);
    const expected = `sha256=${createHmac("sha256", "topsecret").update(hook!.body).digest("hex")}`;
    expect(hook!.headers["x-canary-signature"]).toBe(expected);
    const slack = rx.received.find((r) => r.path === "/slack");
    expect((JSON.parse(slack!.body) as { text: string }).text).toMatch(/Canary checkout d1 started at 1%/);

    // A second flush right away sends nothing twice: the webhook is done, the Slack retry is backing off.
    const before = rx.received.length;
    const again = await runCliAsync(["tick", "--json", "--ledger", ledger], { env });
    expect(
      (JSON.parse(again.stdout) as { notifications: { delivered: number } }).notifications.delivered,
    ).toBe(0);
    expect(rx.received.length).toBe(before);

    // A rollback tells the author, with the evidence and where the report is.
    expect(
      (await runCliAsync(["rollback", "d1", "--reason", "pager: errors", "--ledger", ledger], { env })).code,
    ).toBe(0);
    await runCliAsync(["tick", "--ledger", ledger], { env });
    const rb = rx.received
      .filter((r) => r.path === "/hook")
      .map((r) => JSON.parse(r.body) as Record<string, unknown>)
      .find((p) => p.event === "rollback");
    expect(rb).toMatchObject({
      state: "rolled_back",
      percent: 0,
      author: "ana@example.com",
      reason: "pager: errors",
      report: "canary://deployments/d1/report",
    });
    expect(Array.isArray(rb?.evidence)).toBe(true);

    // The failing receiver changed nothing about the deployment.
    const status = await runCliAsync(["status", "d1", "--json", "--ledger", ledger], { env });
    expect(JSON.parse(status.stdout)).toMatchObject({ state: "rolled_back", step: 0, percent: 0 });
    expect(
      (JSON.parse(status.stdout) as { pending_notifications: number }).pending_notifications,
    ).toBeGreaterThanOrEqual(1);
  });
});
