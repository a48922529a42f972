import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Slice } from "../../mcp-server/core/slice.js";
import { pullMetrics } from "../../mcp-server/operations/pull-metrics.js";
import { cohortSlices, familiesFromSlices, fixturePolicy, promText } from "../support/prom-fixture.js";
import { importVictoriaMetrics, type RunningServer, startVictoriaMetrics } from "../support/prometheus.js";
import { MIN, manualContext, sliceValues, start, storedValues } from "../support/pull-harness.js";

// The same fixture against VictoriaMetrics: it speaks the Prometheus query API, and its
// increase() does not extrapolate, so the fetched slices must equal the fixture's numbers too.

const T0 = Date.parse("2025-03-03T10:00:00Z");

const slices: Slice[] = [];
const resetSlices: Slice[] = [];
let vm: RunningServer;

beforeAll(async () => {
  for (const cohort of ["canary", "control"] as const) {
    slices.push(
      ...cohortSlices({
        cohort,
        from: T0,
        count: 30,
        sliceMs: MIN,
        requests: (i) => 900 + 7 * i,
        errorRate: 0.02,
        slowShare: 0.1,
      }),
    );
    resetSlices.push(
      ...cohortSlices({
        cohort,
        from: T0,
        count: 30,
        sliceMs: MIN,
        requests: (i) => 400 + i,
        errorRate: 0.01,
        slowShare: 0.3,
      }),
    );
  }
  const by = (s: Slice[], c: string) => s.filter((x) => x.cohort === c);
  const families = familiesFromSlices(
    ["canary", "control"].map((c) => ({ labels: { deployment: "vm-1", cohort: c }, slices: by(slices, c) })),
    MIN,
  );
  const reset = familiesFromSlices(
    ["canary", "control"].map((c) => ({
      labels: { deployment: "vm-reset", cohort: c },
      slices: by(resetSlices, c),
    })),
    MIN,
    { resetAt: 9 },
  );
  vm = await startVictoriaMetrics();
  await importVictoriaMetrics(vm.url, promText([...families, ...reset]));
}, 60_000);

afterAll(async () => {
  await vm?.stop();
});

describe("the Prometheus source against VictoriaMetrics", () => {
  it("fetches exactly the fixture's counters and histograms, with a counter reset", async () => {
    const at = T0 + 25 * MIN;
    for (const [id, data] of [
      ["vm-1", slices],
      ["vm-reset", resetSlices],
    ] as const) {
      const ctx = await manualContext();
      start(ctx, id, fixturePolicy(vm.url, { timeout: "5s" }), T0);
      // Freshly imported samples may take a moment to become searchable: look until they are.
      let out = await pullMetrics(ctx, id, { at: new Date(at).toISOString() });
      for (let i = 0; i < 50 && out.series_stored === 0; i++) {
        await new Promise((r) => setTimeout(r, 200));
        out = await pullMetrics(ctx, id, { at: new Date(at).toISOString() });
      }
      expect(out.errors).toEqual([]);
      expect(storedValues(ctx, id)).toEqual(sliceValues(data, at - 2 * MIN));
    }
  });

  it("does not judge a slice that grows after a first look until it is complete", async () => {
    // Samples of the slice 10:40-10:41 arrive in two parts: the first look sees only the first.
    const t = T0 + 40 * MIN;
    const labels = 'deployment="vm-late",cohort="canary",code="200"';
    const line = (offsetS: number, v: number) => `http_requests_total{${labels}} ${v} ${t + offsetS * 1000}`;
    await importVictoriaMetrics(vm.url, `${[line(-60, 1000), line(0, 1000), line(15, 1100)].join("\n")}\n`);
    const ctx = await manualContext();
    const p = fixturePolicy(vm.url, { timeout: "5s" }) as { source: { lag?: string } };
    p.source.lag = "30s";
    start(ctx, "vm-late", p, t - 5 * MIN);
    const key = `canary|${new Date(t).toISOString()}|http_requests`;
    // At 10:41:20 the slice is not complete yet (t + 1m + 30s = 10:41:30): nothing is stored for it.
    await pullMetrics(ctx, "vm-late", { at: new Date(t + 80_000).toISOString() });
    expect(storedValues(ctx, "vm-late").has(key)).toBe(false);
    await importVictoriaMetrics(vm.url, `${[line(30, 1250), line(45, 1300), line(60, 1400)].join("\n")}\n`);
    let stored: unknown;
    for (let i = 0; i < 50 && stored === undefined; i++) {
      await pullMetrics(ctx, "vm-late", { at: new Date(t + 90_000).toISOString() });
      stored = storedValues(ctx, "vm-late").get(key);
      if (stored === undefined) await new Promise((r) => setTimeout(r, 200));
    }
    expect(stored).toBe(400);
  });
});
