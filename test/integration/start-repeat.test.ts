import { describe, expect, it } from "vitest";
import { RefusedError } from "../../mcp-server/core/errors.js";
import { listAudit } from "../../mcp-server/ledger/audit.js";
import { listTransitions } from "../../mcp-server/ledger/deployments.js";
import { startDeployment } from "../../mcp-server/operations/start-deployment.js";
import { manualContext } from "../support/context.js";
import { basicPolicy } from "../support/policies.js";

const at = "2026-05-26T10:00:00Z";

describe("a repeated start", () => {
  it("with the same id, policy and version is a safe repeat: moved false, nothing written", async () => {
    const ctx = await manualContext();
    const first = startDeployment(ctx, { deployment_id: "d1", policy: basicPolicy(), version: "v2", at });
    expect(first.moved).toBe(true);
    const again = startDeployment(ctx, {
      deployment_id: "d1",
      policy: basicPolicy(),
      version: "v2",
      at: "2026-05-26T10:05:00Z",
    });
    expect(again).toEqual({ ...first, moved: false });
    expect(listTransitions(ctx.ledger, "d1")).toHaveLength(1);
    expect(listAudit(ctx.ledger, { deploymentId: "d1" }).filter((e) => e.action === "start")).toHaveLength(1);
  });

  it("with another policy or another version under the same id is refused", async () => {
    const ctx = await manualContext();
    startDeployment(ctx, { deployment_id: "d1", policy: basicPolicy(), version: "v2", at });
    for (const input of [
      { policy: basicPolicy({ approvers: ["someone-else@example.com"] }), version: "v2" },
      { policy: basicPolicy(), version: "v3" },
      { policy: basicPolicy() },
    ]) {
      expect(() => startDeployment(ctx, { deployment_id: "d1", at, ...input })).toThrow(RefusedError);
    }
  });
});
