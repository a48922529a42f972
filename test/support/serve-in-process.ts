import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { createAssigner } from "../../mcp-server/cohort-assigner.js";
import { allowedHosts } from "../../mcp-server/http/hosts.js";
import { createHttpServer } from "../../mcp-server/http/server.js";
import type { TokenTable } from "../../mcp-server/http/tokens.js";
import { openLedger } from "../../mcp-server/ledger/open.js";
import {
  type Clock,
  manualClock,
  type OperationContext,
  realClock,
} from "../../mcp-server/operations/context.js";
import { policyDirectory } from "../../mcp-server/operations/policy-files.js";
import { tempDir } from "./cli.js";

/** `canary serve`'s HTTP server in this process, on a real port, over a real SQLite ledger file. */
export async function serveInProcess(
  opts: {
    clock?: "real" | "manual" | Clock;
    tokens?: TokenTable;
    actor?: string;
    /** serve's --policies: the only place policy paths over HTTP are read from. */
    policiesDir?: string;
  } = {},
): Promise<{ ctx: OperationContext; base: string; ledgerPath: string; close: () => Promise<void> }> {
  const ledgerPath = join(tempDir(), "ledger.db");
  const clock =
    typeof opts.clock === "object" ? opts.clock : opts.clock === "manual" ? manualClock : realClock;
  const ctx: OperationContext = {
    ledger: openLedger(ledgerPath, { clockMode: clock.mode }),
    clock,
    actor: opts.actor ?? "release-lead@example.com",
    assigner: await createAssigner(),
    readPolicyFile: () => {
      throw new Error("serve reads policy files only through --policies");
    },
  };
  const server = createHttpServer({
    ctx,
    tokens: opts.tokens ?? [],
    allowedHosts: allowedHosts("127.0.0.1"),
    policyFiles: policyDirectory(opts.policiesDir),
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    ctx,
    base: `http://127.0.0.1:${port}`,
    ledgerPath,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      ctx.ledger.close();
    },
  };
}
