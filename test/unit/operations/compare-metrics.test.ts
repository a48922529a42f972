import { describe, expect, it } from "vitest";
import { InvalidInputError } from "../../../mcp-server/core/errors.js";
import { listAudit } from "../../../mcp-server/ledger/audit.js";
import { getDeployment } from "../../../mcp-server/ledger/deployments.js";
import { compareMetricsReport } from "../../../mcp-server/operations/compare-metrics.js";
import { feed, iso, MIN, operationsContext, start, T0 } from "./harness.js";

describe("compare_metrics: the report at a time, read-only", () => {
  it("judges the slices up to `at`, defaulting to the latest time seen, and changes nothing", async () => {
    const ctx = await operationsContext();
    start(ctx, "d1");
    feed(ctx, "d1", { from: T0, minutes: 5, percent: 10, canaryErrors: 0.2 });
    const before = getDeployment(ctx.ledger, "d1");
    const auditBefore = listAudit(ctx.ledger, {}).length;
    const now = compareMetricsReport(ctx, { deployment_id: "d1" });
    expect(now.window?.to).toBe(iso(T0 + 5 * MIN));
    expect(now.rows[0]).toMatchObject({ metric: "error_rate", status: "regression" });
    const earlier = compareMetricsReport(ctx, { deployment_id: "d1", at: iso(T0 + 2 * MIN) });
    expect(earlier.window?.to).toBe(iso(T0 + 2 * MIN));
    expect(earlier.inputs_sha256).not.toBe(now.inputs_sha256);
    expect(getDeployment(ctx.ledger, "d1")).toEqual(before);
    expect(listAudit(ctx.ledger, {}).length).toBe(auditBefore);
    expect(() => compareMetricsReport(ctx, { deployment_id: "d1", at: "yesterday" })).toThrow(
      InvalidInputError,
    );
  });
});
