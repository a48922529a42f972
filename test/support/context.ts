import { join } from "node:path";
import { createAssigner } from "../../mcp-server/cohort-assigner.js";
import { openLedger } from "../../mcp-server/ledger/open.js";
import { manualClock, type OperationContext } from "../../mcp-server/operations/context.js";
import { tempDir } from "./cli.js";

/** An in-process context on a real SQLite file, on the manual clock. */
export async function manualContext(path = join(tempDir(), "ledger.db")): Promise<OperationContext> {
  return {
    ledger: openLedger(path, { clockMode: "manual" }),
    clock: manualClock,
    actor: "tester@example.com",
    assigner: await createAssigner(),
    readPolicyFile: () => "",
  };
}
