import { describe, expect, it } from "vitest";
import { InvalidInputError, RefusedError } from "../../../mcp-server/core/errors.js";
import type { Slice } from "../../../mcp-server/core/slice.js";
import { listAudit } from "../../../mcp-server/ledger/audit.js";
import { loadSlices } from "../../../mcp-server/ledger/slices.js";
import { recordMetrics } from "../../../mcp-server/operations/record-metrics.js";
import { rollback } from "../../../mcp-server/operations/rollback.js";
import { busyPolicy, iso, MIN, operationsContext, start, T0 } from "./harness.js";

const slice = (minute: number, extra: Partial<Slice> = {}): Slice => ({
  t: iso(T0 + minute * MIN),
  cohort: "canary",
  counters: { http_requests: 100, http_errors: 1 },
  ...extra,
});

async function started(policy = busyPolicy()) {
  const ctx = await operationsContext();
  start(ctx, "d1", policy);
  return ctx;
}

/** A refusal: bad input names its field, a refused call its rule. */
type Refusal = Error & { field?: string; rule?: string };

function refusal(fn: () => unknown): Refusal {
  try {
    fn();
  } catch (e) {
    if (e instanceof InvalidInputError || e instanceof RefusedError) return e;
    throw e;
  }
  throw new Error("expected a refusal");
}

/** Nothing of a refused call was kept: no series, no audit entry beyond the start. */
function nothingStored(ctx: Awaited<ReturnType<typeof started>>) {
  expect(loadSlices(ctx.ledger, "d1")).toEqual([]);
  expect(listAudit(ctx.ledger, { deploymentId: "d1" }).map((e) => e.action)).toEqual(["start"]);
}

describe("record_metrics stores slices all or nothing", () => {
  it("stores series, says the span, and audits the call with the inputs' hash", async () => {
    const ctx = await started();
    const out = recordMetrics(ctx, {
      deployment_id: "d1",
      slices: [slice(2), slice(0), { ...slice(1), cohort: "control" }],
    });
    expect(out).toMatchObject({ accepted: 3, series_written: 6, from: iso(T0), to: iso(T0 + 3 * MIN) });
    expect(out.inputs_sha256).toMatch(/^[0-9a-f]{64}$/);
    const entries = listAudit(ctx.ledger, { deploymentId: "d1" });
    expect(entries.map((e) => e.action)).toEqual(["start", "record_metrics"]);
    expect(entries[1]!.details).toEqual({
      slices: 3,
      series: 6,
      from: T0,
      to: T0 + 3 * MIN,
      inputs_sha256: out.inputs_sha256,
    });
    // The manual clock without `at`: recorded at the deployment's last event.
    expect(entries[1]!.at).toBe(iso(T0));
    expect(loadSlices(ctx.ledger, "d1")).toHaveLength(3);
  });

  it("a re-sent series replaces the stored one", async () => {
    const ctx = await started();
    recordMetrics(ctx, { deployment_id: "d1", slices: [slice(0)] });
    recordMetrics(ctx, {
      deployment_id: "d1",
      slices: [slice(0, { counters: { http_requests: 200, http_errors: 3 } })],
    });
    const stored = loadSlices(ctx.ledger, "d1");
    expect(stored).toHaveLength(1);
    expect(stored[0]!.counters).toEqual({ http_requests: 200, http_errors: 3 });
  });

  it("refuses slices off the slice grid, from the future, or for another deployment", async () => {
    const ctx = await started();
    const offGrid = refusal(() =>
      recordMetrics(ctx, {
        deployment_id: "d1",
        slices: [slice(0), { ...slice(1), t: iso(T0 + MIN + 30_000) }],
      }),
    );
    expect(offGrid.field).toBe("slices[1].t");
    expect(offGrid.message).toMatch(/is not aligned to the policy's slice width \(1m\)/);
    const future = refusal(() =>
      recordMetrics(ctx, { deployment_id: "d1", slices: [slice(5)], at: iso(T0 + 5 * MIN) }),
    );
    expect(future.field).toBe("slices[0].t");
    expect(future.message).toMatch(
      /starts at or after now \(2026-05-26T10:05:00.000Z\); slices describe the past/,
    );
    // One minute before `at` is the past.
    expect(
      recordMetrics(ctx, { deployment_id: "d1", slices: [slice(4)], at: iso(T0 + 5 * MIN) }).accepted,
    ).toBe(1);
    const other = refusal(() =>
      recordMetrics(ctx, { deployment_id: "d1", slices: [{ ...slice(0), deployment_id: "d2" }] }),
    );
    expect(other.field).toBe("slices[0].deployment_id");
    expect(other.message).toBe("slice belongs to d2, not d1");
    expect(
      recordMetrics(ctx, { deployment_id: "d1", slices: [{ ...slice(0), deployment_id: "d1" }] }).accepted,
    ).toBe(1);
  });

  it("with the wall clock, slices from now on are refused and the call is recorded at now", async () => {
    const ctx = await started();
    const wall = { ...ctx, clock: { mode: "real" as const, now: () => T0 + 5 * MIN } };
    expect(refusal(() => recordMetrics(wall, { deployment_id: "d1", slices: [slice(5)] })).field).toBe(
      "slices[0].t",
    );
    expect(recordMetrics(wall, { deployment_id: "d1", slices: [slice(4)] }).accepted).toBe(1);
    expect(listAudit(ctx.ledger, { deploymentId: "d1" }).at(-1)!.at).toBe(iso(T0 + 5 * MIN));
  });

  it("refuses more events than trials, naming the metric", async () => {
    const ctx = await started();
    const e = refusal(() =>
      recordMetrics(ctx, {
        deployment_id: "d1",
        slices: [slice(0), slice(1, { counters: { http_requests: 10, http_errors: 11 } })],
      }),
    );
    expect(e.field).toBe("slices[1].counters.http_errors");
    expect(e.message).toMatch(
      /^http_errors = 11 is greater than http_requests = 10 in the same slice; metric error_rate/,
    );
    nothingStored(ctx);
    // Equal is fine: every request failed.
    expect(
      recordMetrics(ctx, {
        deployment_id: "d1",
        slices: [slice(0, { counters: { http_requests: 5, http_errors: 5 } })],
      }).accepted,
    ).toBe(1);
  });

  it("refuses slices after the deployment ended", async () => {
    const ctx = await started();
    rollback(ctx, { deployment_id: "d1", reason: "pager: errors", at: iso(T0 + 3 * MIN) });
    const e = refusal(() => recordMetrics(ctx, { deployment_id: "d1", slices: [slice(2), slice(3)] }));
    expect(e).toBeInstanceOf(RefusedError);
    expect((e as RefusedError).rule).toBe("deployment_ended");
    expect(e.message).toMatch(
      /^slices\[1\]\.t: .* is after the deployment ended \(2026-05-26T10:03:00.000Z\)/,
    );
    expect(recordMetrics(ctx, { deployment_id: "d1", slices: [slice(2)] }).accepted).toBe(1);
  });

  it("refuses the same series twice in one call, but not per instance or segment", async () => {
    const ctx = await started();
    const twice = refusal(() => recordMetrics(ctx, { deployment_id: "d1", slices: [slice(0), slice(0)] }));
    expect(twice.field).toBe("slices[1].counters.http_requests");
    expect(twice.message).toMatch(/appears twice in one call; send it once/);
    const out = recordMetrics(ctx, {
      deployment_id: "d1",
      slices: [
        slice(0, { instance: "pod-a" }),
        slice(0, { instance: "pod-b" }),
        { ...slice(0, { instance: "pod-a" }), cohort: "control" },
      ],
    });
    expect(out.series_written).toBe(6);
  });

  it("keeps each series' kind, bucket bounds and segmentation for the whole deployment", async () => {
    const ctx = await started();
    const h = (bounds: number[]) => ({ latency: { bounds, counts: bounds.map(() => 1).concat(1) } });
    recordMetrics(ctx, { deployment_id: "d1", slices: [slice(0, { histograms: h([10, 20]) })] });
    const kind = refusal(() =>
      recordMetrics(ctx, {
        deployment_id: "d1",
        slices: [slice(1, { counters: { http_requests: 1, http_errors: 0, latency: 3 } })],
      }),
    );
    expect(kind.field).toBe("slices[0].counters.latency");
    expect(kind.message).toBe("series latency is stored as a histogram, not a counter");
    const rebinned = refusal(() =>
      recordMetrics(ctx, { deployment_id: "d1", slices: [slice(1, { histograms: h([10, 30]) })] }),
    );
    expect(rebinned.field).toBe("slices[0].histograms.latency.bounds");
    expect(rebinned.message).toMatch(
      /keeps the same bounds for the whole deployment \(\[10,20\]\); re-binning is refused/,
    );
    const fewer = refusal(() =>
      recordMetrics(ctx, { deployment_id: "d1", slices: [slice(1, { histograms: h([10]) })] }),
    );
    expect(fewer.field).toBe("slices[0].histograms.latency.bounds");
    // Within one call, the first slice sets the bounds for the rest.
    const inCall = refusal(() =>
      recordMetrics(ctx, {
        deployment_id: "d1",
        slices: [slice(1, { histograms: h([10, 20]) }), slice(2, { histograms: h([5, 20]) })],
      }),
    );
    expect(inCall.field).toBe("slices[1].histograms.latency.bounds");
    expect(
      recordMetrics(ctx, { deployment_id: "d1", slices: [slice(1, { histograms: h([10, 20]) })] }).accepted,
    ).toBe(1);
    const segmented = refusal(() =>
      recordMetrics(ctx, { deployment_id: "d1", slices: [slice(2, { dims: { region: "eu" } })] }),
    );
    expect(segmented.field).toBe("slices[0].dims");
    expect(segmented.message).toMatch(
      /is already stored for the whole cohort; mixing segmented and whole slices is refused/,
    );
  });

  it("a series stored by segment refuses whole-cohort slices", async () => {
    const ctx = await started();
    recordMetrics(ctx, {
      deployment_id: "d1",
      slices: [slice(0, { dims: { region: "eu" } }), slice(0, { dims: { region: "us" } })],
    });
    const whole = refusal(() => recordMetrics(ctx, { deployment_id: "d1", slices: [slice(1)] }));
    expect(whole.field).toBe("slices[0].dims");
    expect(whole.message).toMatch(/is already stored by segment/);
    // Within one call too.
    const ctx2 = await started();
    const mixed = refusal(() =>
      recordMetrics(ctx2, { deployment_id: "d1", slices: [slice(0), slice(1, { dims: { region: "eu" } })] }),
    );
    expect(mixed.field).toBe("slices[1].dims");
  });

  it("stores units and moments as their own series", async () => {
    const ctx = await started();
    const out = recordMetrics(ctx, {
      deployment_id: "d1",
      slices: [slice(0, { units: 42, moments: { size: { n: 2, sum: 4, sum_sq: 10 } } })],
    });
    expect(out.series_written).toBe(4);
    const [s] = loadSlices(ctx.ledger, "d1");
    expect(s!.units).toBe(42);
    expect(s!.moments).toEqual({ size: { n: 2, sum: 4, sum_sq: 10 } });
  });
});

describe("record_metrics refuses running totals (cumulative counters)", () => {
  const cumulative = (
    from: number,
    n: number,
    cohort: Slice["cohort"] = "canary",
    extra: Partial<Slice> = {},
  ) =>
    Array.from({ length: n }, (_, i) => ({
      t: iso(T0 + (from + i) * MIN),
      cohort,
      counters: { http_requests: 50_000 + 400 * (from + i) + ((from + i) % 3) * 7, http_errors: 0 },
      ...extra,
    }));

  it("in one call, naming the series, the cohort and the span, and storing nothing", async () => {
    const ctx = await started();
    const e = refusal(() =>
      recordMetrics(ctx, { deployment_id: "d1", slices: cumulative(0, 20), at: iso(T0 + 30 * MIN) }),
    );
    expect(e.field).toBe("counters.http_requests");
    expect(e.message).toMatch(
      /^looks cumulative: in cohort canary it rose in every slice from 2026-05-26T10:00:00.000Z to /,
    );
    expect(e.message).toMatch(/increase\(\.\.\.\[1m\]\)/);
    expect(e.message).toMatch(/Nothing was stored$/);
    nothingStored(ctx);
  });

  it("across calls: the stored slices around a new batch count too, and instance and segment are named", async () => {
    const ctx = await started();
    const extra = { instance: "pod-a", dims: { region: "eu" } };
    recordMetrics(ctx, {
      deployment_id: "d1",
      slices: cumulative(0, 10, "control", extra),
      at: iso(T0 + 30 * MIN),
    });
    const e = refusal(() =>
      recordMetrics(ctx, {
        deployment_id: "d1",
        slices: cumulative(10, 10, "control", extra),
        at: iso(T0 + 30 * MIN),
      }),
    );
    expect(e.message).toMatch(
      /in cohort control segment .*region.*eu.* instance pod-a it rose in every slice from 2026-05-26T10:00:00.000Z/,
    );
  });

  it("increments that wander are not a running total", async () => {
    const ctx = await started();
    const slices = Array.from({ length: 30 }, (_, i) => ({
      t: iso(T0 + i * MIN),
      cohort: "canary" as const,
      counters: { http_requests: 400 + ((i * 37) % 50), http_errors: 4 },
    }));
    expect(recordMetrics(ctx, { deployment_id: "d1", slices, at: iso(T0 + 30 * MIN) }).accepted).toBe(30);
  });
});
