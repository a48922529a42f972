import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { holdWriteLock } from "../bench/serve-probe.js";
import { runCliAsync, tempDir } from "../support/cli.js";
import { call, connectCanary } from "../support/mcp-client.js";
import { basicPolicy } from "../support/policies.js";

// `canary mcp` (stdio) while another process holds the ledger's write lock: a write waits without
// freezing the server, reads answer in the meantime, and the write lands once the lock is free.

describe("canary mcp with a busy ledger", () => {
  it("answers reads while a write waits for another process's lock, then lands the write", async () => {
    const dir = tempDir();
    const ledger = join(dir, "ledger.db");
    const policy = join(dir, "policy.json");
    writeFileSync(policy, JSON.stringify(basicPolicy()));
    const started = await runCliAsync([
      "start",
      "web-1",
      "--policy",
      policy,
      "--author",
      "ana@example.com",
      "--ledger",
      ledger,
    ]);
    expect(started.code, started.stderr).toBe(0);
    const client = await connectCanary({ ledger });
    const lock = await holdWriteLock(ledger, 3_000);
    let released = false;
    void lock.releasingAt.then(() => {
      released = true;
    });
    const write = call(client, "pause_deployment", { deployment_id: "web-1", reason: "freeze" });
    // Reads go on while the write waits: all of them answer before the lock is let go.
    for (let i = 0; i < 5; i++) {
      const status = await call(client, "deployment_status", { deployment_id: "web-1" });
      expect(status.isError).toBeFalsy();
    }
    expect(released).toBe(false);
    const paused = await write;
    // The write landed after the holder let go (its exit may be seen later: times, not events).
    const landedAt = Date.now();
    expect(landedAt).toBeGreaterThanOrEqual(await lock.releasingAt);
    expect(paused.isError, JSON.stringify(paused.content)).toBeFalsy();
    expect(paused.structuredContent).toMatchObject({ state: "paused" });
    await client.close();
  });
});
