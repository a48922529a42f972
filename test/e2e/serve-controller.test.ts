import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createAssigner } from "../../mcp-server/cohort-assigner.js";
import { verifyLedger } from "../../mcp-server/ledger/audit.js";
import { getDeployment, listTransitions } from "../../mcp-server/ledger/deployments.js";
import { openLedger } from "../../mcp-server/ledger/open.js";
import { type OperationContext, realClock } from "../../mcp-server/operations/context.js";
import { recordMetrics } from "../../mcp-server/operations/record-metrics.js";
import { startDeployment } from "../../mcp-server/operations/start-deployment.js";
import { CLI, REPO, tempDir } from "../support/cli.js";
import { basicPolicy } from "../support/policies.js";
import { trafficSlices } from "../support/service-traffic.js";

// Three real `canary serve` processes on one ledger, on the wall clock, with nothing else acting:
// the leader's controller drives the ladder; at each new step the current leader is SIGKILLed and
// a standby takes over within two lease periods. Traffic is pushed into the ledger as a service would.

const SLICE_MS = 2_000;
const LEASE_SECONDS = 2;

function serve(ledger: string): Promise<{ child: ChildProcess; base: string }> {
  const child = spawn(
    process.execPath,
    [CLI, "serve", "--port", "0", "--ledger", ledger, "--lease-seconds", String(LEASE_SECONDS)],
    { cwd: REPO, env: { ...process.env } },
  );
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

async function readyz(base: string): Promise<{ leader: boolean; lease_holder: string | null }> {
  return (await (await fetch(`${base}/readyz`)).json()) as { leader: boolean; lease_holder: string | null };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("canary serve runs the controller (two servers, one ledger, wall clock)", () => {
  const children: ChildProcess[] = [];
  afterAll(() => {
    for (const c of children) c.kill("SIGKILL");
  });

  it("takes a healthy deployment up the ladder by itself; each time the leader is killed a standby takes over and finishes it", async () => {
    const ledgerPath = join(tempDir(), "ledger.db");
    const ctx: OperationContext = {
      ledger: openLedger(ledgerPath),
      clock: realClock,
      actor: "service@test",
      assigner: await createAssigner(),
      readPolicyFile: () => "",
    };
    const policy = basicPolicy({
      slice: "2s",
      check_every: "4s",
      ladder: [
        { percent: 20, window: "12s" },
        { percent: 35, window: "12s" },
        { percent: 50, window: "12s" },
        { percent: 100 },
      ],
      metrics: [
        {
          name: "checkout_error_rate",
          type: "ratio",
          events: "http_errors",
          trials: "http_requests",
          bad: "increase",
          tolerance: { relative: 0 },
          margin: { relative: 1 },
        },
      ],
    });
    startDeployment(ctx, { deployment_id: "pay-1", policy });
    const servers: { child: ChildProcess; base: string }[] = [];
    for (let i = 0; i < 3; i++) {
      const s = await serve(ledgerPath);
      children.push(s.child);
      servers.push(s);
      await sleep(300);
    }

    // The service reports each complete slice of its traffic, at the deployment's current percent.
    let dataUntil = Math.floor(Date.now() / SLICE_MS) * SLICE_MS;
    // Per kill: when the leader died, and when one of the survivors led.
    const kills: { at: number; survivors: { base: string }[]; tookOver?: number }[] = [];
    let killedAtStep = 0;
    const deadline = Date.now() + 120_000;
    while (Date.now() < deadline) {
      const d = getDeployment(ctx.ledger, "pay-1");
      if (d.state !== "canary") break;
      const complete = Math.floor(Date.now() / SLICE_MS) * SLICE_MS;
      if (complete > dataUntil) {
        recordMetrics(ctx, {
          deployment_id: "pay-1",
          slices: trafficSlices({
            from: dataUntil,
            to: complete,
            sliceMs: SLICE_MS,
            rps: 3000,
            percentAt: () => d.percent,
            behaviour: () => ({ errorRate: 0.01 }),
            seed: complete,
          }),
        });
        dataUntil = complete;
      }
      if (d.step > killedAtStep && d.step <= 2) {
        // A new step: kill whichever server leads now.
        killedAtStep = d.step;
        const alive = servers.filter((x) => x.child.exitCode === null && x.child.signalCode === null);
        let leader: (typeof servers)[number] | undefined;
        for (const x of alive) if ((await readyz(x.base)).leader) leader = x;
        expect(leader, "someone leads before the kill").toBeDefined();
        leader?.child.kill("SIGKILL");
        kills.push({ at: Date.now(), survivors: alive.filter((x) => x !== leader) });
      }
      const last = kills.at(-1);
      if (last && last.tookOver === undefined) {
        for (const x of last.survivors) if ((await readyz(x.base)).leader) last.tookOver = Date.now();
      }
      await sleep(250);
    }
    const d = getDeployment(ctx.ledger, "pay-1");
    expect(d.state).toBe("completed");
    expect(kills).toHaveLength(2);
    for (const k of kills) {
      expect(k.tookOver, "a standby took over").toBeDefined();
      expect((k.tookOver ?? 0) - k.at).toBeLessThanOrEqual(2 * LEASE_SECONDS * 1000 + 1000);
    }
    const moves = listTransitions(ctx.ledger, "pay-1").filter(
      (t) => t.kind === "promote" || t.kind === "complete",
    );
    expect(
      moves.map((m) => m.to_step),
      "each rung taken once",
    ).toEqual([1, 2, 3]);
    expect(verifyLedger(ctx.ledger).ok).toBe(true);
    ctx.ledger.close();
  }, 180_000);
});
