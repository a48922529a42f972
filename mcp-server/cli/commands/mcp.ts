import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { whenLedgerFree } from "../../ledger/busy.js";
import { createServer } from "../../mcp/server.js";
import { deliveryLoop } from "../../notify/loop.js";
import { userPolicyFiles } from "../../operations/policy-files.js";
import { COMMON_HELP, type Command, str } from "../command.js";
import { openContext } from "../context.js";
import { SERVER_BUSY_TIMEOUT_MS } from "./serve.js";

export const mcpCommand: Command = {
  name: "mcp",
  summary: "serve the canary tools over MCP stdio",
  usage: `canary mcp [--ledger PATH] [--clock manual]

Serves the MCP tools over stdio (server name "canary") until stdin closes. Policy paths are the
user's own (relative to the working directory), regular files of at most 256 KiB.

${COMMON_HELP}`,
  options: { ledger: { type: "string" }, clock: { type: "string" } },
  async run(args) {
    const ctx = await whenLedgerFree(
      () =>
        openContext({
          ledger: str(args, "ledger"),
          clock: str(args, "clock"),
          busyTimeoutMs: SERVER_BUSY_TIMEOUT_MS,
        }),
      { deadlineMs: 60_000 },
    );
    const server = createServer(ctx, { canWrite: true, policyFiles: userPolicyFiles() });
    const transport = new StdioServerTransport();
    await server.connect(transport);
    // A long-lived process delivers queued notifications as it goes.
    const delivery = deliveryLoop(ctx.ledger, { onError: () => undefined, unref: true });
    await new Promise<void>((resolve) => {
      server.server.onclose = () => resolve();
      process.stdin.on("end", () => resolve());
    });
    await delivery.stop();
    await server.close().catch(() => undefined);
    ctx.ledger.close();
    return 0;
  },
};
