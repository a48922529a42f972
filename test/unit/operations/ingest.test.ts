import { describe, expect, it } from "vitest";
import { InvalidInputError, NotFoundError, RefusedError } from "../../../mcp-server/core/errors.js";
import type { Slice } from "../../../mcp-server/core/slice.js";
import { listAudit } from "../../../mcp-server/ledger/audit.js";
import { loadSlices } from "../../../mcp-server/ledger/slices.js";
import { ingestSlices } from "../../../mcp-server/operations/ingest.js";
import { recordMetrics } from "../../../mcp-server/operations/record-metrics.js";
import { rollback } from "../../../mcp-server/operations/rollback.js";
import { busyPolicy, iso, MIN, operationsContext, start, T0 } from "./harness.js";

async function* lines(...items: unknown[]): AsyncIterable<string> {
  for (const item of items) yield typeof item === "string" ? item : JSON.stringify(item);
}

const slice = (deployment_id: string, minute: number) => ({
  deployment_id,
  t: iso(T0 + minute * MIN),
  cohort: "canary" as const,
  counters: { http_requests: 100, http_errors: 1 },
});

describe("ingest", () => {
  it("names the line of a slice for an unknown deployment, and keeps nothing of the stream", async () => {
    const ctx = await operationsContext();
    start(ctx, "d1");
    const error = await ingestSlices(ctx, lines(slice("d1", 0), "", slice("d1", 1), slice("typo", 2))).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(NotFoundError);
    expect((error as NotFoundError).field).toBe("line 4: deployment_id");
    expect((error as Error).message).toMatch(/no deployment with id "typo"/);
    // All or nothing: the two good lines before it were not kept either.
    expect(listAudit(ctx.ledger, { deploymentId: "d1", limit: 10 }).map((e) => e.action)).toEqual(["start"]);
  });

  it("counts slices per deployment and audits each deployment once", async () => {
    const ctx = await operationsContext();
    start(ctx, "d1");
    start(ctx, "d2", busyPolicy({ service: "other" }));
    const summary = await ingestSlices(ctx, lines(slice("d1", 0), slice("d2", 0), slice("d1", 1)));
    expect(summary).toEqual({ lines: 3, slices: 3, series_written: 6, deployments: { d1: 2, d2: 1 } });
  });
});

async function failure(p: Promise<unknown>): Promise<Error & { field?: string; rule?: string }> {
  const e = await p.then(
    () => undefined,
    (error: unknown) => error,
  );
  if (e instanceof InvalidInputError || e instanceof RefusedError) return e;
  throw new Error(`expected a refusal, got ${String(e)}`);
}

describe("ingest: one stream, all or nothing", () => {
  it("takes the deployment from --deployment when a slice names none, and audits the stream", async () => {
    const ctx = await operationsContext();
    start(ctx, "d1");
    const { deployment_id: _, ...bare } = slice("d1", 0);
    const summary = await ingestSlices(ctx, lines(bare, "  ", slice("d1", 1)), { deploymentId: "d1" });
    expect(summary).toEqual({ lines: 3, slices: 2, series_written: 4, deployments: { d1: 2 } });
    expect(loadSlices(ctx.ledger, "d1")).toHaveLength(2);
    const entry = listAudit(ctx.ledger, { deploymentId: "d1" }).at(-1)!;
    expect(entry).toMatchObject({ action: "ingest", at: iso(T0), details: { slices: 2, lines: 3 } });
  });

  it("with the wall clock, a slice from now on is refused and the stream is recorded at now", async () => {
    const ctx = await operationsContext();
    start(ctx, "d1");
    const wall = { ...ctx, clock: { mode: "real" as const, now: () => T0 + 5 * MIN } };
    const future = await failure(ingestSlices(wall, lines(slice("d1", 4), slice("d1", 5))));
    expect(future.field).toBe("line 2: t");
    expect((await ingestSlices(wall, lines(slice("d1", 4)))).slices).toBe(1);
    expect(listAudit(ctx.ledger, { deploymentId: "d1" }).at(-1)).toMatchObject({
      action: "ingest",
      at: iso(T0 + 5 * MIN),
    });
  });

  it("a slice of another deployment than --deployment, or of none, is refused by line", async () => {
    const ctx = await operationsContext();
    start(ctx, "d1");
    start(ctx, "d2", busyPolicy({ service: "other" }));
    const other = await failure(
      ingestSlices(ctx, lines(slice("d1", 0), slice("d2", 0)), { deploymentId: "d1" }),
    );
    expect(other.field).toBe("line 2: deployment_id");
    expect(other.message).toBe("is d2, but --deployment says d1");
    const { deployment_id: _, ...bare } = slice("d1", 0);
    const none = await failure(ingestSlices(ctx, lines(bare)));
    expect(none.field).toBe("line 1: deployment_id");
    expect(none.message).toBe("the slice names no deployment_id and no --deployment was given");
    const bad = await failure(
      ingestSlices(ctx, lines(slice("d1", 0), { ...slice("d1", 1), t: iso(T0 + 90_000) })),
    );
    expect(bad.field).toBe("line 2: t");
    expect(loadSlices(ctx.ledger, "d1")).toEqual([]);
  });

  it("a running total across the stream is refused naming the line its series began on", async () => {
    const ctx = await operationsContext();
    start(ctx, "d1");
    const cumulative = Array.from({ length: 20 }, (_, i) => ({
      ...slice("d1", i),
      counters: { http_requests: 50_000 + 400 * i + (i % 3) * 7, http_errors: 0 },
    }));
    const e = await failure(ingestSlices(ctx, lines(slice("d1", 40), ...cumulative)));
    expect(e.field).toBe("line 1: counters.http_requests");
    expect(e.message).toMatch(/^looks cumulative/);
    expect(loadSlices(ctx.ledger, "d1")).toEqual([]);
  });

  it("large streams are staged in batches and report progress every 5 000 slices", async () => {
    const ctx = await operationsContext();
    start(ctx, "d1");
    const many = Array.from({ length: 5001 }, (_, i) => ({ ...slice("d1", 0), instance: `pod-${i}` }));
    const seen: number[] = [];
    const summary = await ingestSlices(ctx, lines(...many), { onProgress: (s) => seen.push(s.slices) });
    expect(seen).toEqual([5000]);
    expect(summary).toMatchObject({ slices: 5001, series_written: 10_002 });
    const [stored] = loadSlices(ctx.ledger, "d1");
    expect(stored!.counters.http_requests).toBe(5001 * 100);
  });

  it("a stream of 5 000 slices without a progress callback is fine", async () => {
    const ctx = await operationsContext();
    start(ctx, "d1");
    const many = Array.from({ length: 5000 }, (_, i) => ({ ...slice("d1", 0), instance: `pod-${i}` }));
    expect((await ingestSlices(ctx, lines(...many))).slices).toBe(5000);
  });

  it("a rollback while the file was read refuses slices from after it; earlier ones are kept", async () => {
    const ctx = await operationsContext();
    start(ctx, "d1");
    async function* meanwhile(rollbackAt: number, minutes: number[]): AsyncIterable<string> {
      for (const m of minutes) yield JSON.stringify(slice("d1", m));
      rollback(ctx, { deployment_id: "d1", reason: "pager: errors", at: iso(rollbackAt) });
    }
    const e = await failure(ingestSlices(ctx, meanwhile(T0 + 3 * MIN, [0, 1, 2, 3])));
    expect(e).toBeInstanceOf(RefusedError);
    expect((e as RefusedError).rule).toBe("deployment_ended");
    expect(e.message).toMatch(
      /^deployment d1 ended \(rolled_back\) at 2026-05-26T10:03:00.000Z while this file was read/,
    );
    expect(loadSlices(ctx.ledger, "d1")).toEqual([]);
    const ctx2 = await operationsContext();
    start(ctx2, "d1");
    async function* before(): AsyncIterable<string> {
      for (const m of [0, 1, 2]) yield JSON.stringify(slice("d1", m));
      rollback(ctx2, { deployment_id: "d1", reason: "pager: errors", at: iso(T0 + 3 * MIN) });
    }
    expect((await ingestSlices(ctx2, before())).slices).toBe(3);
  });

  it("a series another writer stored meanwhile in another shape refuses the stream", async () => {
    const ctx = await operationsContext();
    start(ctx, "d1");
    async function* meanwhile(): AsyncIterable<string> {
      yield JSON.stringify({
        ...slice("d1", 0),
        counters: { http_requests: 100, http_errors: 1, latency: 5 },
      });
      recordMetrics(ctx, {
        deployment_id: "d1",
        slices: [
          {
            ...slice("d1", 1),
            counters: undefined,
            histograms: { latency: { bounds: [10], counts: [1, 1] } },
          },
        ],
      });
    }
    const e = await failure(ingestSlices(ctx, meanwhile()));
    expect((e as RefusedError).rule).toBe("concurrent_change");
    expect(e.message).toMatch(
      /another writer stored series latency of deployment d1 in a shape this file does not match/,
    );
    // Another writer storing the same shape is fine.
    const ctx2 = await operationsContext();
    start(ctx2, "d1");
    async function* same(): AsyncIterable<string> {
      yield JSON.stringify(slice("d1", 0));
      recordMetrics(ctx2, { deployment_id: "d1", slices: [slice("d1", 1)] });
    }
    expect((await ingestSlices(ctx2, same())).slices).toBe(1);
    expect(loadSlices(ctx2.ledger, "d1")).toHaveLength(2);
  });

  it("histogram bounds or segmentation stored meanwhile that disagree also refuse it", async () => {
    for (const [mine, theirs] of [
      [
        { histograms: { latency: { bounds: [10], counts: [1, 1] } } },
        { histograms: { latency: { bounds: [20], counts: [1, 1] } } },
      ],
      [
        { histograms: { latency: { bounds: [10], counts: [1, 1] } } },
        { histograms: { latency: { bounds: [10, 20], counts: [1, 1, 1] } } },
      ],
      [{ dims: { region: "eu" } }, {}],
      [{}, { dims: { region: "eu" } }],
    ] satisfies [Partial<Slice>, Partial<Slice>][]) {
      const ctx = await operationsContext();
      start(ctx, "d1");
      async function* meanwhile(): AsyncIterable<string> {
        yield JSON.stringify({ ...slice("d1", 0), ...mine });
        recordMetrics(ctx, { deployment_id: "d1", slices: [{ ...slice("d1", 1), ...theirs }] });
      }
      const e = await failure(ingestSlices(ctx, meanwhile()));
      expect((e as RefusedError).rule, JSON.stringify(mine)).toBe("concurrent_change");
    }
    // The same bounds stored meanwhile agree.
    const ctx = await operationsContext();
    start(ctx, "d1");
    const h = { histograms: { latency: { bounds: [10, 20], counts: [1, 1, 1] } } };
    async function* same(): AsyncIterable<string> {
      yield JSON.stringify({ ...slice("d1", 0), ...h });
      recordMetrics(ctx, { deployment_id: "d1", slices: [{ ...slice("d1", 1), ...h }] });
    }
    expect((await ingestSlices(ctx, same())).slices).toBe(1);
  });
});
