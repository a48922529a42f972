import { join } from "node:path";
import { createAssigner } from "../../mcp-server/cohort-assigner.js";
import { runTick } from "../../mcp-server/controller/tick-pass.js";
import type { Slice } from "../../mcp-server/core/slice.js";
import { openLedger } from "../../mcp-server/ledger/open.js";
import {
  closeSharedProviders,
  createProvider,
  type ProviderFactory,
} from "../../mcp-server/metrics/index.js";
import type { MetricProvider } from "../../mcp-server/metrics/provider.js";
import { manualClock, type OperationContext } from "../../mcp-server/operations/context.js";
import { startDeployment } from "../../mcp-server/operations/start-deployment.js";
import { tempDir } from "../support/cli.js";
import { cohortSlices, familiesFromSlices, fixturePolicy, openMetrics } from "../support/prom-fixture.js";
import { startPrometheus } from "../support/prometheus.js";

// One tick over 200 Prometheus-backed deployments against a real Prometheus on loopback: every
// deployment pulls its complete slices (one query_range per series and cohort), then the whole
// tick decides. Prints requests per look per deployment (target: at most one per series and
// cohort) and the tick's time (target under 10 s).

const DEPLOYMENTS = 200;
const MINUTES = 20;
const MIN = 60_000;
const T0 = Date.parse("2025-03-03T10:00:00Z");

async function main(): Promise<void> {
  const cohorts = [];
  for (let d = 0; d < DEPLOYMENTS; d++) {
    for (const cohort of ["canary", "control"] as const) {
      const slices: Slice[] = cohortSlices({
        cohort,
        from: T0,
        count: MINUTES,
        sliceMs: MIN,
        requests: (i) => (cohort === "canary" ? 400 : 3600) + ((i * 7 + d) % 11),
        errorRate: 0.01,
        slowShare: 0.1,
      });
      cohorts.push({ labels: { deployment: `dep-${d}`, cohort }, slices });
    }
  }
  let t = performance.now();
  const prom = await startPrometheus({ openmetrics: openMetrics(familiesFromSlices(cohorts, MIN)) });
  process.stdout.write(
    `backfilled ${DEPLOYMENTS} deployments x ${MINUTES} min and started Prometheus in ${((performance.now() - t) / 1000).toFixed(1)} s\n`,
  );
  const ledger = openLedger(join(tempDir("canary-bench-"), "ledger.db"), { clockMode: "manual" });
  const ctx: OperationContext = {
    ledger,
    clock: manualClock,
    actor: "bench",
    assigner: await createAssigner(),
    readPolicyFile: () => {
      throw new Error("inline policies only");
    },
  };
  let provider: MetricProvider | undefined;
  const providers: ProviderFactory = (source) => {
    provider ??= createProvider(source);
    return provider;
  };
  try {
    for (let d = 0; d < DEPLOYMENTS; d++)
      startDeployment(ctx, {
        deployment_id: `dep-${d}`,
        policy: fixturePolicy(prom.url, { service: `svc-${d}`, checkEvery: "5m", latencyCritical: false }),
        at: new Date(T0).toISOString(),
      });
    for (const minute of [10, 15]) {
      const at = new Date(T0 + minute * MIN).toISOString();
      const before = provider?.requests ?? 0;
      t = performance.now();
      const { actions } = await runTick(ctx, { at }, { providers });
      const total = performance.now() - t;
      const requests = (provider?.requests ?? 0) - before;
      const errors = actions.filter((a) => a.reason_codes.includes("provider_error")).length;
      const decided = actions.filter((a) => a.action !== "none").length;
      process.stdout.write(
        `look at +${minute}m: ${requests} requests for ${DEPLOYMENTS} deployments = ${(requests / DEPLOYMENTS).toFixed(2)} per deployment (3 series x 2 cohorts: ${(requests / DEPLOYMENTS / 6).toFixed(2)} per series and cohort; target <= 1); ${errors} looks with source errors, ${decided} decided; whole tick (pulls and looks) ${(total / 1000).toFixed(2)} s (target < 10 s)\n`,
      );
    }
  } finally {
    await provider?.close();
    await closeSharedProviders();
    ledger.close();
    await prom.stop();
  }
}

await main();
