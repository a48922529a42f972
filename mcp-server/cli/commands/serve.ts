import { createHttpServer } from "../../http/server.js";
import { loadTokens } from "../../http/tokens.js";
import { deliverDue } from "../../notify/deliver.js";
import { COMMON_HELP, type Command, str } from "../command.js";
import { openContext } from "../context.js";
import { UsageError } from "../output.js";

export const serveCommand: Command = {
  name: "serve",
  summary: "serve the MCP tools over HTTP, REST for routers, and the status page",
  usage: `canary serve [--port N] [--host H] [--tokens FILE]

  POST /mcp                          MCP (Streamable HTTP), Authorization: Bearer <token>
  GET  /v1/deployments               active and recent deployments
  GET  /v1/deployments/ID            one deployment's status
  GET  /v1/deployments/ID/routing    {deployment_id, state, percent, seed, population}, ETag / 304
  GET  /v1/deployments/ID/assign?unit=U[&attr.key=value]   {cohort, bucket, percent}
  GET  /v1/deployments/ID/history    the numbers behind the deployment page's charts
  GET  /                             the status list (?page=N, ?per_page=N up to 200)
  GET  /deployments/ID               one deployment: timeline, charts, report, audit trail

Binds 127.0.0.1 unless --host says otherwise (default port 8787). Tokens: --tokens FILE or
CANARY_TOKENS, a JSON object mapping each token to the actor it acts as. Without tokens the
read-only routes still answer and MCP is closed. Delivers queued notifications continuously.

${COMMON_HELP}`,
  options: {
    ledger: { type: "string" },
    clock: { type: "string" },
    port: { type: "string" },
    host: { type: "string" },
    tokens: { type: "string" },
  },
  async run(args) {
    const port = Number(str(args, "port") ?? 8787);
    if (!Number.isInteger(port) || port < 0 || port > 65535)
      throw new UsageError("--port takes a port number (0 picks a free one)");
    const host = str(args, "host") ?? "127.0.0.1";
    const tokens = loadTokens(str(args, "tokens"), process.env);
    const ctx = await openContext({ ledger: str(args, "ledger"), clock: str(args, "clock") });
    const server = createHttpServer({ ctx, tokens });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, host, () => resolve());
    });
    const address = server.address();
    const bound =
      typeof address === "object" && address ? `${address.address}:${address.port}` : String(address);
    process.stdout.write(
      `canary serve listening on http://${bound} (${tokens.length} token${tokens.length === 1 ? "" : "s"})\n`,
    );
    const delivery = setInterval(() => {
      void deliverDue(ctx.ledger, { now: Date.now(), deadline: Date.now() + 4_000 }).catch((e: unknown) => {
        process.stderr.write(
          `canary serve: notification delivery: ${e instanceof Error ? e.message : String(e)}\n`,
        );
      });
    }, 5_000);
    await new Promise<void>((resolve) => {
      const stop = () => resolve();
      process.once("SIGINT", stop);
      process.once("SIGTERM", stop);
    });
    clearInterval(delivery);
    await new Promise<void>((resolve) => server.close(() => resolve()));
    ctx.ledger.close();
    return 0;
  },
};
