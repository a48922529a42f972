import { describe, expect, it } from "vitest";
import { NotFoundError } from "../../../mcp-server/core/errors.js";
import { listAudit } from "../../../mcp-server/ledger/audit.js";
import { ingestSlices } from "../../../mcp-server/operations/ingest.js";
import { busyPolicy, iso, MIN, operationsContext, start, T0 } from "./harness.js";

async function* lines(...items: unknown[]): AsyncIterable<string> {
  for (const item of items) yield typeof item === "string" ? item : JSON.stringify(item);
}

const slice = (deployment_id: string, minute: number) => ({
  deployment_id,
  t: iso(T0 + minute * MIN),
  cohort: "canary",
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
