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

// Two real `canary serve` processes on one ledger, on the wall clock, with nothing else acting:
// the leader's controller drives the ladder; it is SIGKILLed mid-ladder and the standby takes
// over within two lease periods. Traffic is pushed into the ledger as a service would.

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

  it("takes a healthy deployment up the ladder by itself; after the leader is killed the standby finishes it", async () => {
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
      ladder: [{ percent: 20, window: "12s" }, { percent: 50, window: "12s" }, { percent: 100 }],
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
    const a = await serve(ledgerPath);
    children.push(a.child);
    await sleep(500);
    const b = await serve(ledgerPath);
    children.push(b.child);

    // The service reports each complete slice of its traffic, at the deployment's current percent.
    let dataUntil = Math.floor(Date.now() / SLICE_MS) * SLICE_MS;
    let killed: number | undefined;
    let tookOver: number | undefined;
    let survivor: { base: string } | undefined;
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
      if (killed === undefined && d.step === 1) {
        // Mid-ladder: kill whichever server leads.
        const leader = (await readyz(a.base)).leader ? a : b;
        leader.child.kill("SIGKILL");
        killed = Date.now();
        survivor = leader === a ? b : a;
      }
      if (survivor && tookOver === undefined && (await readyz(survivor.base)).leader) tookOver = Date.now();
      await sleep(250);
    }
    const d = getDeployment(ctx.ledger, "pay-1");
    expect(d.state).toBe("completed");
    expect(killed).toBeDefined();
    expect(tookOver).toBeDefined();
    expect(tookOver! - killed!).toBeLessThanOrEqual(2 * LEASE_SECONDS * 1000 + 1000);
    const moves = listTransitions(ctx.ledger, "pay-1").filter(
      (t) => t.kind === "promote" || t.kind === "complete",
    );
    expect(
      moves.map((m) => m.to_step),
      "each rung taken once",
    ).toEqual([1, 2]);
    expect(verifyLedger(ctx.ledger).ok).toBe(true);
    ctx.ledger.close();
  }, 180_000);
});
