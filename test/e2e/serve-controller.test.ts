import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createAssigner } from "../../mcp-server/cohort-assigner.js";
import { verifyLedger } from "../../mcp-server/ledger/audit.js";
import { listDecisions } from "../../mcp-server/ledger/decisions.js";
import { getDeployment, listTransitions } from "../../mcp-server/ledger/deployments.js";
import { openLedger } from "../../mcp-server/ledger/open.js";
import { type OperationContext, realClock } from "../../mcp-server/operations/context.js";
import { recordMetrics } from "../../mcp-server/operations/record-metrics.js";
import { startDeployment } from "../../mcp-server/operations/start-deployment.js";
import { CLI, REPO, tempDir } from "../support/cli.js";
import { basicPolicy } from "../support/policies.js";
import { trafficSlices } from "../support/service-traffic.js";

// Three real `canary serve` processes on one ledger, on the wall clock, with nothing else acting:
// the leader's controller drives the ladder; every few seconds the current leader is SIGKILLed
// (mid-window, mid-look or just after a promotion, wherever it happens to be) and replaced by a
// fresh process, and a standby takes over within two lease periods. Traffic is pushed into the
// ledger as a service would.

const SLICE_MS = 2_000;
const LEASE_SECONDS = 2;
const KILL_EVERY_MS = 5_000;

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

  it("takes a healthy deployment up the ladder by itself while its leader is SIGKILLed every few seconds: a standby takes over each time, no rung is taken twice, no look is late", async () => {
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
        { percent: 30, window: "12s" },
        { percent: 40, window: "12s" },
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
    const launch = async () => {
      const s = await serve(ledgerPath);
      children.push(s.child);
      servers.push(s);
    };
    for (let i = 0; i < 3; i++) {
      await launch();
      await sleep(300);
    }
    const alive = () => servers.filter((x) => x.child.exitCode === null && x.child.signalCode === null);

    // The service reports each complete slice of its traffic, at the deployment's current percent.
    let dataUntil = Math.floor(Date.now() / SLICE_MS) * SLICE_MS;
    // Per kill: when the leader died, and when one of the survivors led.
    const kills: { at: number; survivors: { base: string }[]; tookOver?: number }[] = [];
    let nextKillAt = Date.now() + KILL_EVERY_MS;
    const deadline = Date.now() + 150_000;
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
      const last = kills.at(-1);
      if (last && last.tookOver === undefined) {
        for (const x of last.survivors) if ((await readyz(x.base)).leader) last.tookOver = Date.now();
      }
      // Every few seconds, whatever the ladder is doing, SIGKILL whoever leads (once the previous
      // kill has been taken over) and start a fresh server in its place.
      if (Date.now() >= nextKillAt && (!last || last.tookOver !== undefined)) {
        const running = alive();
        let leader: (typeof servers)[number] | undefined;
        for (const x of running) if ((await readyz(x.base)).leader) leader = x;
        if (leader) {
          leader.child.kill("SIGKILL");
          const at = Date.now();
          await launch();
          // Whoever takes over (an old standby or the fresh server) counts.
          kills.push({ at, survivors: alive().filter((x) => x !== leader) });
          nextKillAt = Date.now() + KILL_EVERY_MS;
        }
      }
      await sleep(200);
    }
    // A kill just before the end: its takeover still has to happen.
    const lastKill = kills.at(-1);
    while (
      lastKill &&
      lastKill.tookOver === undefined &&
      Date.now() - lastKill.at < 2 * LEASE_SECONDS * 1000 + 1000
    ) {
      for (const x of lastKill.survivors) if ((await readyz(x.base)).leader) lastKill.tookOver = Date.now();
      await sleep(200);
    }
    const d = getDeployment(ctx.ledger, "pay-1");
    expect(d.state).toBe("completed");
    expect(kills.length).toBeGreaterThanOrEqual(6);
    for (const [i, k] of kills.entries()) {
      expect(k.tookOver, `a standby took over after kill ${i + 1} of ${kills.length}`).toBeDefined();
      expect((k.tookOver ?? 0) - k.at).toBeLessThanOrEqual(2 * LEASE_SECONDS * 1000 + 1000);
    }
    const moves = listTransitions(ctx.ledger, "pay-1").filter(
      (t) => t.kind === "promote" || t.kind === "complete",
    );
    expect(
      moves.map((m) => m.to_step),
      "each rung taken once",
    ).toEqual([1, 2, 3, 4]);
    // No look came later than two lease periods after it was due (plus the controller's wake-up).
    const decisions = listDecisions(ctx.ledger, "pay-1", 1000);
    for (let i = 1; i < decisions.length; i++) {
      const before = decisions[i - 1]!;
      const look = decisions[i]!;
      if (look.step !== before.step) continue;
      expect(look.decided_at - before.next_check_at, `look #${i} late`).toBeLessThanOrEqual(
        2 * LEASE_SECONDS * 1000 + 1000,
      );
    }
    expect(verifyLedger(ctx.ledger).ok).toBe(true);
    ctx.ledger.close();
  }, 200_000);
});
