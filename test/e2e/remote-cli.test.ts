import { type ChildProcess, spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLI, REPO, runCliAsync, tempDir } from "../support/cli.js";
import { basicPolicy } from "../support/policies.js";
import { trafficSlices } from "../support/service-traffic.js";

// Every command that has a remote form runs twice: on a local ledger, and through --server
// against a real `canary serve` on its own ledger. Same inputs, same clock, same actor: the JSON
// and the exit codes must be the same, down to the audit chain's head.

const TOKEN = "tok-release-lead-0123456789";
const ACTOR = "release-lead@example.com";
const T0 = Date.parse("2026-05-26T10:00:00Z");
const at = (minutes: number) => new Date(T0 + minutes * 60_000).toISOString();

async function startServe(ledger: string): Promise<{ child: ChildProcess; base: string }> {
  const child = spawn(
    process.execPath,
    [CLI, "serve", "--port", "0", "--ledger", ledger, "--clock", "manual"],
    {
      cwd: REPO,
      env: { ...process.env, CANARY_TOKENS: JSON.stringify({ [TOKEN]: ACTOR }) },
    },
  );
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

describe("the CLI against a shared canary serve (--server), compared with the same CLI on a local ledger", () => {
  let serve: { child: ChildProcess; base: string };
  const dir = tempDir();
  const localLedger = join(dir, "local.db");
  const policy = join(dir, "policy.json");
  writeFileSync(policy, JSON.stringify(basicPolicy({ check_every: "5m" })));

  beforeAll(async () => {
    serve = await startServe(join(dir, "served.db"));
  });
  afterAll(() => {
    serve?.child.kill("SIGTERM");
  });

  const steps: { name: string; args: string[] }[] = [
    {
      name: "start",
      args: ["start", "pay-1", "--policy", policy, "--author", "dev@example.com", "--at", at(0)],
    },
    {
      name: "start again (safe repeat or refusal, alike)",
      args: ["start", "pay-1", "--policy", policy, "--at", at(0)],
    },
    { name: "status of one", args: ["status", "pay-1"] },
    { name: "status list", args: ["status"] },
    { name: "decide", args: ["decide", "pay-1", "--at", at(1)] },
    { name: "compare", args: ["compare", "pay-1", "--at", at(1)] },
    {
      name: "promote without a verdict (refused)",
      args: ["promote", "pay-1", "--expected-step", "0", "--at", at(2)],
    },
    { name: "assign", args: ["assign", "pay-1", "user-17"] },
    { name: "pause", args: ["pause", "pay-1", "--reason", "incident elsewhere", "--at", at(3)] },
    { name: "resume", args: ["resume", "pay-1", "--reason", "incident over", "--at", at(4)] },
    { name: "tick", args: ["tick", "--at", at(20)] },
    { name: "unknown deployment", args: ["status", "nope-1"] },
    { name: "rollback", args: ["rollback", "pay-1", "--reason", "pager: errors", "--at", at(21)] },
    {
      name: "rollback again (safe repeat)",
      args: ["rollback", "pay-1", "--reason", "pager", "--at", at(22)],
    },
    { name: "status after rollback", args: ["status", "pay-1"] },
    { name: "audit", args: ["audit", "--verify"] },
  ];

  it("gives the same JSON and exit code for each command, locally and through --server", async () => {
    for (const step of steps) {
      const local = await runCliAsync(
        [...step.args, "--json", "--ledger", localLedger, "--clock", "manual"],
        {
          env: { CANARY_ACTOR: ACTOR, CANARY_SERVER: "", CANARY_TOKEN: "" },
        },
      );
      const remote = await runCliAsync([...step.args, "--json", "--server", serve.base], {
        env: { CANARY_TOKEN: TOKEN, CANARY_ACTOR: "someone-else@example.com" },
      });
      expect(remote.code, `${step.name}: ${remote.stderr}`).toBe(local.code);
      const parse = (text: string) => JSON.parse(text) as Record<string, unknown>;
      const [l, r] = [parse(local.stdout), parse(remote.stdout)];
      if (step.name === "tick") {
        // A local tick delivers the ledger's queued notifications itself; on a server the server does.
        expect(r.notifications).toBeNull();
        delete l.notifications;
        delete r.notifications;
      }
      expect(r, step.name).toEqual(l);
    }
  }, 300_000);

  it("ingests through the server in record_metrics batches: the same summary and the same report as a local ingest", async () => {
    const slices = trafficSlices({
      from: Date.parse(at(30)),
      to: Date.parse(at(45)),
      rps: 200,
      percentAt: () => 1,
      behaviour: () => ({ errorRate: 0.01 }),
      seed: 3,
      deploymentId: "pay-2",
    });
    const data = join(dir, "pay-2.ndjson");
    writeFileSync(data, `${slices.map((x) => JSON.stringify(x)).join("\n")}\n`);
    const both = async (args: string[]) => {
      const local = await runCliAsync([...args, "--json", "--ledger", localLedger, "--clock", "manual"], {
        env: { CANARY_ACTOR: ACTOR, CANARY_SERVER: "", CANARY_TOKEN: "" },
      });
      const remote = await runCliAsync([...args, "--json", "--server", serve.base], {
        env: { CANARY_TOKEN: TOKEN },
      });
      expect(remote.code, `${args[0]}: ${remote.stderr}`).toBe(local.code);
      return [JSON.parse(local.stdout), JSON.parse(remote.stdout)] as [unknown, unknown];
    };
    await both(["start", "pay-2", "--policy", policy, "--at", at(30)]);
    const [l, r] = await both(["ingest", data]);
    expect(r).toEqual(l);
    expect(l).toMatchObject({ slices: slices.length, deployments: { "pay-2": slices.length } });
    const [lc, rc] = await both(["compare", "pay-2", "--at", at(45)]);
    expect(rc).toEqual(lc);
    // watch through the server: each look is the server's tick; an ended deployment ends the watch.
    const watched = await runCliAsync(["watch", "pay-1", "--server", serve.base], {
      env: { CANARY_TOKEN: TOKEN },
    });
    expect(watched.code, watched.stderr).toBe(20);
    expect(watched.stdout).toMatch(/rolled back/);
  }, 300_000);

  it("refuses without a token (exit 3) and reports an unreachable server as retryable (exit 5)", async () => {
    const noToken = await runCliAsync(["status", "--server", serve.base], { env: { CANARY_TOKEN: "" } });
    expect(noToken.code, noToken.stderr).toBe(3);
    expect(noToken.stderr).toMatch(/CANARY_TOKEN/);
    const dead = await runCliAsync(["status", "--server", "http://127.0.0.1:9"], {
      env: { CANARY_TOKEN: TOKEN },
    });
    expect(dead.code, dead.stderr).toBe(5);
    expect(dead.stderr).toMatch(/did not answer.*retry/);
    const bad = await runCliAsync(["status", "--server", "not a url"], { env: { CANARY_TOKEN: TOKEN } });
    expect(bad.code).toBe(2);
  });
});
