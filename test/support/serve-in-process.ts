import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { createAssigner } from "../../mcp-server/cohort-assigner.js";
import { createHttpServer } from "../../mcp-server/http/server.js";
import type { TokenTable } from "../../mcp-server/http/tokens.js";
import { openLedger } from "../../mcp-server/ledger/open.js";
import {
  type Clock,
  manualClock,
  type OperationContext,
  realClock,
} from "../../mcp-server/operations/context.js";
import { tempDir } from "./cli.js";

/** `canary serve`'s HTTP server in this process, on a real port, over a real SQLite ledger file. */
export async function serveInProcess(
  opts: {
    clock?: "real" | "manual" | Clock;
    tokens?: TokenTable;
    actor?: string;
    readPolicyFile?: (p: string) => string;
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
    readPolicyFile:
      opts.readPolicyFile ??
      (() => {
        throw new Error("no policy files in this test");
      }),
  };
  const server = createHttpServer({ ctx, tokens: opts.tokens ?? [] });
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
