import { createServer } from "../../mcp/server.js";
import { BoundedStdioServerTransport, MAX_MESSAGE_BYTES } from "../../mcp/stdio-transport.js";
import { deliverDue } from "../../notify/deliver.js";
import { COMMON_HELP, type Command, str } from "../command.js";
import { openContext } from "../context.js";

export const mcpCommand: Command = {
  name: "mcp",
  usage: `canary mcp [--ledger PATH] [--clock manual]

Serves the MCP tools over stdio (server name "canary") until stdin closes. One message is at
most ${MAX_MESSAGE_BYTES / 1024 / 1024} MiB: a longer one is skipped and answered with a JSON-RPC error
(code -32600) naming the limit, and the server keeps serving.

${COMMON_HELP}`,
  options: { ledger: { type: "string" }, clock: { type: "string" } },
  async run(args) {
    const ctx = await openContext({ ledger: str(args, "ledger"), clock: str(args, "clock") });
    const server = createServer(ctx);
    const transport = new BoundedStdioServerTransport();
    await server.connect(transport);
    // A long-lived process delivers queued notifications as it goes.
    const delivery = setInterval(() => {
      void deliverDue(ctx.ledger, { now: Date.now(), deadline: Date.now() + 4_000 }).catch(() => undefined);
    }, 5_000);
    delivery.unref();
    await new Promise<void>((resolve) => {
      server.server.onclose = () => resolve();
      process.stdin.on("end", () => resolve());
    });
    clearInterval(delivery);
    await server.close().catch(() => undefined);
    ctx.ledger.close();
    return 0;
  },
};
