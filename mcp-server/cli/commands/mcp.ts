import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { createServer } from "../../mcp/server.js";
import { COMMON_HELP, type Command, str } from "../command.js";
import { openContext } from "../context.js";

export const mcpCommand: Command = {
  name: "mcp",
  summary: "serve the canary tools over MCP stdio",
  usage: `canary mcp [--ledger PATH] [--clock manual]

Serves the MCP tools over stdio (server name "canary") until stdin closes.

${COMMON_HELP}`,
  options: { ledger: { type: "string" }, clock: { type: "string" } },
  async run(args) {
    const ctx = await openContext({ ledger: str(args, "ledger"), clock: str(args, "clock") });
    const server = createServer(ctx);
    const transport = new StdioServerTransport();
    await server.connect(transport);
    await new Promise<void>((resolve) => {
      server.server.onclose = () => resolve();
      process.stdin.on("end", () => resolve());
    });
    await server.close().catch(() => undefined);
    ctx.ledger.close();
    return 0;
  },
};
