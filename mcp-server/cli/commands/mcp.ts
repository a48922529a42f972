import { whenLedgerFree } from "../../ledger/busy.js";
import { createServer } from "../../mcp/server.js";
import { BoundedStdioServerTransport, MAX_MESSAGE_BYTES } from "../../mcp/stdio-transport.js";
import { deliveryLoop } from "../../notify/loop.js";
import { JudgeStates } from "../../operations/judge-states.js";
import { userPolicyFiles } from "../../operations/policy-files.js";
import { COMMON_HELP, type Command, str } from "../command.js";
import { openContext } from "../context.js";
import { SERVER_BUSY_TIMEOUT_MS } from "./serve.js";

export const mcpCommand: Command = {
  name: "mcp",
  usage: `canary mcp [--ledger PATH] [--clock manual]

Serves the MCP tools over stdio (server name "canary") until stdin closes. One message is at
most ${MAX_MESSAGE_BYTES / 1024 / 1024} MiB: a longer one is skipped and answered with a JSON-RPC error
(code -32600) naming the limit, and the server keeps serving. Policy paths are the user's own
(relative to the working directory), regular files of at most 256 KiB.

${COMMON_HELP}`,
  options: { ledger: { type: "string" }, clock: { type: "string" } },
  async run(args) {
    const opened = await whenLedgerFree(
      () =>
        openContext({
          ledger: str(args, "ledger"),
          clock: str(args, "clock"),
          busyTimeoutMs: SERVER_BUSY_TIMEOUT_MS,
        }),
      { deadlineMs: 60_000 },
    );
    // A session decides the same deployments again and again: fold only the new slices each time.
    const ctx = { ...opened, judgeStates: new JudgeStates() };
    const server = createServer(ctx, { canWrite: true, policyFiles: userPolicyFiles() });
    const transport = new BoundedStdioServerTransport();
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
