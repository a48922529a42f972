import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { type CliResult, runCliAsync, tempDir } from "../support/cli.js";
import { call, connectCanary, errorText } from "../support/mcp-client.js";
import { basicPolicy } from "../support/policies.js";
import { healthySliceLines } from "../support/slices.js";

// How long the writers run: 20 s in the suite; CANARY_STRESS_SECONDS=60 for the full minute.
const SECONDS = Number(process.env.CANARY_STRESS_SECONDS ?? 20);

describe("eight concurrent writers", () => {
  it(
    `ingest, tick, decide, promote, pause/resume and MCP record_metrics side by side for ${SECONDS} s give no user a lock error`,
    async () => {
      const dir = tempDir();
      const ledger = join(dir, "ledger.db");
      const ids = ["da", "db", "dc"];
      for (const id of ids) {
        const policy = join(dir, `${id}.json`);
        writeFileSync(policy, JSON.stringify(basicPolicy({ service: `svc-${id}` })));
        const r = await runCliAsync(["start", id, "--policy", policy, "--ledger", ledger]);
        expect(r.code, r.stderr).toBe(0);
      }
      const files = ["da", "db"].map((id, i) => {
        const file = join(dir, `${id}.ndjson`);
        const lines = healthySliceLines({
          deploymentId: id,
          startMs: Date.UTC(2026, 0, 1),
          minutes: 1500,
          seed: i,
        });
        writeFileSync(file, `${lines.join("\n")}\n`);
        return file;
      });
      const until = Date.now() + SECONDS * 1000;
      const results: { who: string; r: CliResult }[] = [];
      const loop = async (who: string, args: () => string[]) => {
        while (Date.now() < until)
          results.push({ who, r: await runCliAsync([...args(), "--ledger", ledger]) });
      };
      let paused = false;
      const mcp = await connectCanary({ ledger });
      const mcpErrors: string[] = [];
      let mcpCalls = 0;
      const mcpLoop = async () => {
        let minute = 0;
        while (Date.now() < until) {
          const lines = healthySliceLines({
            startMs: Date.UTC(2026, 0, 1) + minute * 60_000,
            minutes: 50,
            seed: minute,
          });
          minute += 50;
          const res = await call(mcp, "record_metrics", {
            deployment_id: "dc",
            slices: lines.map((l) => JSON.parse(l) as unknown),
          });
          mcpCalls++;
          if (res.isError) mcpErrors.push(errorText(res));
        }
      };
      await Promise.all([
        loop("ingest-a", () => ["ingest", files[0]!]),
        loop("ingest-b", () => ["ingest", files[1]!]),
        loop("tick-1", () => ["tick", "--flush-seconds", "0"]),
        loop("tick-2", () => ["tick", "--flush-seconds", "0"]),
        loop("decide", () => ["decide", "da"]),
        loop("promote", () => ["promote", "db", "--expected-step", "0"]),
        loop("pause-resume", () => {
          paused = !paused;
          return [paused ? "pause" : "resume", "dc", "--reason", "load test"];
        }),
        mcpLoop(),
      ]);
      await mcp.close();
      const lockErrors = results.filter(
        ({ r }) => r.code === 5 || r.code === 1 || /locked|busy/i.test(r.stderr),
      );
      expect(lockErrors.map(({ who, r }) => `${who}: exit ${r.code} ${r.stderr}`)).toEqual([]);
      expect(mcpErrors.filter((e) => /locked|busy/i.test(e))).toEqual([]);
      expect(mcpErrors).toEqual([]);
      // Every writer got work done.
      for (const who of ["ingest-a", "ingest-b", "tick-1", "pause-resume"]) {
        expect(
          results.some((x) => x.who === who && x.r.code === 0),
          who,
        ).toBe(true);
      }
      expect(mcpCalls).toBeGreaterThan(0);
    },
    SECONDS * 1000 + 90_000,
  );
});
