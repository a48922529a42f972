import { spawn } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { REPO, runCli, tempDir } from "../support/cli.js";

// CI jobs of several services start at the same moment on a ledger that does not exist yet:
// every one of them must create-or-open it; none may see the empty file SQLite leaves between
// creating a database and first writing it (which reads as a truncated ledger, exit 4).

// Opens the ledger for writing at an agreed instant (all processes loaded and waiting), then
// starts one deployment through the product's operation.
const OPENER = `
const [root, ledgerPath, id, atText] = process.argv.slice(-4);
const { openLedger } = await import(root + "/dist/mcp-server/ledger/open.js");
const { startDeployment } = await import(root + "/dist/mcp-server/operations/start-deployment.js");
const { createAssigner } = await import(root + "/dist/mcp-server/cohort-assigner.js");
const { realClock } = await import(root + "/dist/mcp-server/operations/context.js");
const assigner = await createAssigner();
while (Date.now() < Number(atText)) {}
const ledger = openLedger(ledgerPath);
startDeployment({ ledger, clock: realClock, actor: "ci", assigner, readPolicyFile: () => "" }, {
  deployment_id: id,
  policy: { service: id, ladder: [{ percent: 1, window: "30m" }, { percent: 100 }], metrics: [{ name: "e", type: "ratio", events: "e", trials: "t", bad: "increase", tolerance: { relative: 0.1 } }] },
});
ledger.close();
`;

function opener(ledger: string, id: string, at: number): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, ["--input-type=module", "-e", OPENER, REPO, ledger, id, String(at)], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  return new Promise((resolve) => child.on("exit", (code) => resolve({ code, stderr })));
}

describe("a ledger created by several processes at once", () => {
  it("lets six processes open a new path at the same instant, ten times over: all succeed, one ledger holds them all", async () => {
    for (let round = 0; round < 10; round++) {
      const ledger = join(tempDir(), "nested", "ledger.db");
      const at = Date.now() + 1500;
      const ids = Array.from({ length: 6 }, (_, i) => `dep-${round}-${i}`);
      const results = await Promise.all(ids.map((id) => opener(ledger, id, at)));
      for (const r of results) expect(r.code, r.stderr).toBe(0);
      const status = runCli(["status", "--all", "--json", "--ledger", ledger]);
      expect(status.code, status.stderr).toBe(0);
      const listed = JSON.parse(status.stdout) as { deployments: { deployment_id: string }[] };
      expect(listed.deployments.map((d) => d.deployment_id).sort()).toEqual(ids);
    }
  }, 120_000);
});
