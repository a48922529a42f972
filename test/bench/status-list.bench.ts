import { mkdtempSync, rmSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { createAssigner } from "../../mcp-server/cohort-assigner.js";
import { allowedHosts } from "../../mcp-server/http/hosts.js";
import { createHttpServer } from "../../mcp-server/http/server.js";
import { renderStatusPage } from "../../mcp-server/http/status-page.js";
import { listDeployments } from "../../mcp-server/ledger/deployments.js";
import { openLedger } from "../../mcp-server/ledger/open.js";
import { manualClock, type OperationContext } from "../../mcp-server/operations/context.js";
import { decide } from "../../mcp-server/operations/decide.js";
import { deploymentCards } from "../../mcp-server/operations/deployment-cards.js";
import { deploymentStatus } from "../../mcp-server/operations/deployment-status.js";
import { policyDirectory } from "../../mcp-server/operations/policy-files.js";
import { recordMetrics } from "../../mcp-server/operations/record-metrics.js";
import { rollback } from "../../mcp-server/operations/rollback.js";
import { startDeployment } from "../../mcp-server/operations/start-deployment.js";

// The status list with 2 000 deployments (each with slices and a recorded decision, a third
// rolled back): server time for GET / (one query for the page's cards, then HTML), first and last
// page, against the previous way in the same run (the recent list, then one status read per card:
// decisions, transitions, outbox, audit head). Target: under 200 ms for a page.

const DEPLOYMENTS = 2_000;
const T0 = Date.parse("2026-05-26T10:00:00Z");

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? Number.NaN;
}

function time(rounds: number, fn: () => void): number {
  const ms: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const start = performance.now();
    fn();
    ms.push(performance.now() - start);
  }
  return median(ms);
}

async function seed(ctx: OperationContext): Promise<void> {
  for (let i = 0; i < DEPLOYMENTS; i++) {
    const id = `bench-${i}`;
    const at = new Date(T0 + i * 1000).toISOString();
    startDeployment(ctx, {
      deployment_id: id,
      at,
      policy: {
        service: `svc-${i}`,
        slice: "1m",
        ladder: [{ percent: 5, window: "10m" }, { percent: 50, window: "10m" }, { percent: 100 }],
        metrics: [
          {
            name: "error_rate",
            type: "ratio",
            events: "http_errors",
            trials: "http_requests",
            bad: "increase",
            tolerance: { relative: 0 },
            margin: { relative: 0.5 },
          },
        ],
      },
    });
    const slices = [];
    for (let m = 0; m < 5; m++) {
      for (const cohort of ["canary", "control"] as const) {
        slices.push({
          t: new Date(T0 + i * 1000 + 60_000 + m * 60_000).toISOString().replace(/:\d\d\.\d+Z$/, ":00Z"),
          cohort,
          counters: { http_requests: cohort === "canary" ? 50 : 950, http_errors: 1 },
        });
      }
    }
    const later = new Date(T0 + i * 1000 + 8 * 60_000).toISOString();
    recordMetrics(ctx, { deployment_id: id, slices, at: later });
    decide(ctx, { deployment_id: id, at: later });
    if (i % 3 === 0) rollback(ctx, { deployment_id: id, reason: "bench rollback", at: later });
  }
}

export async function statusListBench(): Promise<{
  first: number;
  last: number;
  wide: number;
  http: number;
  previous: number;
}> {
  const dir = mkdtempSync(join(tmpdir(), "canary-bench-list-"));
  const ctx: OperationContext = {
    ledger: openLedger(join(dir, "ledger.db"), { clockMode: "manual" }),
    clock: manualClock,
    actor: "bench",
    assigner: await createAssigner(),
    readPolicyFile: () => "",
  };
  try {
    await seed(ctx);
    const now = new Date();
    const last = Math.ceil(DEPLOYMENTS / 50);
    const result = {
      first: time(30, () => renderStatusPage(deploymentCards(ctx, { page: 1 }), now)),
      last: time(30, () => renderStatusPage(deploymentCards(ctx, { page: last }), now)),
      wide: time(30, () => renderStatusPage(deploymentCards(ctx, { page: 1, per_page: 200 }), now)),
      previous: time(30, () => {
        for (const d of listDeployments(ctx.ledger, { limit: 50 }))
          deploymentStatus(ctx, { deployment_id: d.id });
      }),
      http: 0,
    };
    const server = createHttpServer({
      ctx,
      tokens: [],
      allowedHosts: allowedHosts("127.0.0.1"),
      policyFiles: policyDirectory(undefined),
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    const ms: number[] = [];
    for (let i = 0; i < 30; i++) {
      const start = performance.now();
      const res = await fetch(url);
      await res.text();
      if (res.status !== 200) throw new Error(`GET / answered ${res.status}`);
      ms.push(performance.now() - start);
    }
    result.http = median(ms);
    await new Promise<void>((resolve) => server.close(() => resolve()));
    return result;
  } finally {
    ctx.ledger.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const r = await statusListBench();
  const f = (v: number): string => `${v.toFixed(1)} ms`;
  console.log(`status list: ${DEPLOYMENTS} deployments (slices and a decision each), median of 30`);
  console.log(`  page 1 (50 cards), query + HTML        ${f(r.first)} (target < 200 ms)`);
  console.log(`  last page (offset ${DEPLOYMENTS - 50}), query + HTML ${f(r.last)}`);
  console.log(`  200 cards per page, query + HTML       ${f(r.wide)}`);
  console.log(`  GET / over HTTP (client-measured)      ${f(r.http)}`);
  console.log(
    `  previous way: list + status per card   ${f(r.previous)} (ratio new/previous ${(r.first / r.previous).toFixed(2)}x)`,
  );
}
