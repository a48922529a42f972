import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { tempDir } from "../support/cli.js";
import { call, connectCanary, errorText } from "../support/mcp-client.js";
import { basicPolicy } from "../support/policies.js";

describe("the stdio MCP server and oversized messages", () => {
  it("answers a record_metrics over the 16 MiB message limit with an error naming it, and keeps serving", async () => {
    const client = await connectCanary({ ledger: join(tempDir(), "ledger.db") });
    const started = await call(client, "start_deployment", { deployment_id: "d1", policy: basicPolicy() });
    expect(started.isError).toBeFalsy();
    // 100 000 slices: about 20 MB of JSON on one line.
    const slices = Array.from({ length: 100_000 }, (_, i) => ({
      t: new Date(Date.UTC(2026, 0, 1) + Math.floor(i / 2) * 60_000).toISOString(),
      cohort: i % 2 ? "canary" : "control",
      counters: { http_requests: 1000 + (i % 7), http_errors: i % 5 },
      histograms: { latency: { bounds: [5, 10, 25, 50, 100], counts: [1, 2, 3, 4, 5, 6] } },
    }));
    await expect(call(client, "record_metrics", { deployment_id: "d1", slices })).rejects.toThrow(
      /over the limit of 16\.0 MiB per message/,
    );
    // The same connection still serves.
    const small = await call(client, "record_metrics", { deployment_id: "d1", slices: slices.slice(0, 10) });
    expect(small.isError, errorText(small)).toBeFalsy();
    const status = await call(client, "deployment_status", { deployment_id: "d1" });
    expect(status.isError).toBeFalsy();
    await client.close();
  });
});
