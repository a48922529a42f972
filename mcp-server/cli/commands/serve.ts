import { statSync } from "node:fs";
import { resolve } from "node:path";
import { createController } from "../../controller/controller.js";
import { allowedHosts, isLoopbackHost } from "../../http/hosts.js";
import { RequestDurations } from "../../http/metrics.js";
import { createHttpServer } from "../../http/server.js";
import { loadTokens } from "../../http/tokens.js";
import { whenLedgerFree } from "../../ledger/busy.js";
import { deliveryLoop } from "../../notify/loop.js";
import { JudgeStates } from "../../operations/judge-states.js";
import { policyDirectory } from "../../operations/policy-files.js";
import { COMMON_HELP, type Command, flag, str } from "../command.js";
import { openContext } from "../context.js";
import { UsageError } from "../output.js";

/** Servers wait at most this long inside SQLite for the write lock, then retry asynchronously. */
export const SERVER_BUSY_TIMEOUT_MS = 5;

export const serveCommand: Command = {
  name: "serve",
  usage: `canary serve [--port N] [--host H] [--tokens FILE] [--policies DIR] [--allowed-host H]...
             [--public-url URL] [--insecure-no-auth] [--lease-seconds N] [--no-controller]

  POST /mcp                          MCP (Streamable HTTP), Authorization: Bearer <token>
  GET  /v1/deployments               active and recent deployments
  GET  /v1/deployments/ID            one deployment's status
  GET  /v1/deployments/ID/routing    {deployment_id, state, percent, seed, population}, ETag / 304
  GET  /v1/deployments/ID/assign?unit=U[&attr.key=value]   {cohort, bucket, percent}
  GET  /healthz                      alive
  GET  /readyz                       ready, and whether this process's controller leads
  GET  /metrics                      the controller's own state (Prometheus text format)
  GET  /v1/deployments/ID/history    the numbers behind the deployment page's charts
  GET  /                             the status list (?page=N, ?per_page=N up to 200)
  GET  /deployments/ID               one deployment: timeline, charts, report, audit trail

Binds 127.0.0.1 unless --host says otherwise (default port 8787). Tokens: --tokens FILE or
CANARY_TOKENS, a JSON object mapping each token to its actor (an operator) or to
{"actor": "...", "role": "viewer" | "operator"}; viewers may call read-only tools only. Without
tokens the read-only routes still answer and MCP is closed; binding beyond loopback without
tokens is refused unless --insecure-no-auth.
Every request must name this server in Host (and Origin, if sent): the loopback names, the bound
address, and each --allowed-host; others get 403.
Policies named by path over MCP must be files under --policies DIR (without it, only inline
policies). --public-url is the address people use, for links in notifications.
Delivers queued notifications continuously. See docs/serve.md.

The controller: for every active deployment, at its due time, pull its metrics (the policy's
source), decide, and promote or roll back as the policy allows, with no tick or CLI call. Several
servers may share one ledger: a lease in the ledger (--lease-seconds, default 15) makes one of
them act, and a standby takes over once the leader's lease has expired. --no-controller serves
without acting; a --clock manual server never acts on its own. See docs/controller.md.

${COMMON_HELP}`,
  options: {
    ledger: { type: "string" },
    clock: { type: "string" },
    port: { type: "string" },
    host: { type: "string" },
    tokens: { type: "string" },
    policies: { type: "string" },
    "allowed-host": { type: "string", multiple: true },
    "public-url": { type: "string" },
    "insecure-no-auth": { type: "boolean" },
    "lease-seconds": { type: "string" },
    "no-controller": { type: "boolean" },
  },
  async run(args) {
    const port = Number(str(args, "port") ?? 8787);
    if (!Number.isInteger(port) || port < 0 || port > 65535)
      throw new UsageError("--port takes a port number (0 picks a free one)");
    const host = str(args, "host") ?? "127.0.0.1";
    const tokens = loadTokens(str(args, "tokens"), process.env);
    if (!isLoopbackHost(host) && tokens.length === 0 && !flag(args, "insecure-no-auth"))
      throw new UsageError(
        `--host ${host} reaches beyond this machine and no tokens are configured: pass --tokens FILE (or CANARY_TOKENS), or --insecure-no-auth to serve the read-only routes to anyone who can reach it`,
      );
    const extraHosts = (args.values["allowed-host"] as string[] | undefined) ?? [];
    for (const h of extraHosts)
      if (!/^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)$/.test(h))
        throw new UsageError(
          `--allowed-host takes a host name or address without port, got ${JSON.stringify(h)}`,
        );
    const policiesDir = str(args, "policies");
    if (policiesDir !== undefined) {
      let isDir = false;
      try {
        isDir = statSync(policiesDir).isDirectory();
      } catch {
        isDir = false;
      }
      if (!isDir) throw new UsageError(`--policies ${policiesDir} is not a directory`);
    }
    const publicUrl = str(args, "public-url");
    if (publicUrl !== undefined && !/^https?:\/\/[^\s]+$/.test(publicUrl))
      throw new UsageError(
        "--public-url takes an http:// or https:// address, such as https://canary.example.com",
      );
    // Another process may hold the write lock at start (a long ingest): wait for it asynchronously.
    const opened = await whenLedgerFree(
      () =>
        openContext({
          ledger: str(args, "ledger"),
          clock: str(args, "clock"),
          busyTimeoutMs: SERVER_BUSY_TIMEOUT_MS,
        }),
      { deadlineMs: 60_000 },
    );
    // The controller and the tools share each deployment's judge: a look folds only new slices.
    const ctx = { ...opened, judgeStates: new JudgeStates() };
    const leaseText = str(args, "lease-seconds") ?? "15";
    const leaseSeconds = Number(leaseText);
    if (!(leaseSeconds >= 1 && leaseSeconds <= 3600))
      throw new UsageError(
        `--lease-seconds takes 1 to 3600 seconds, got ${JSON.stringify(leaseText.slice(0, 20))}`,
      );
    // The controller acts on the wall clock; a manual-clock server is driven by its callers' `at`.
    const controller =
      flag(args, "no-controller") || ctx.clock.mode !== "real"
        ? undefined
        : createController({
            ctx,
            leaseMs: leaseSeconds * 1000,
            onError: (id, e) =>
              process.stderr.write(
                `canary serve: controller${id ? ` (${id})` : ""}: ${e instanceof Error ? e.message : String(e)}\n`,
              ),
          });
    const server = createHttpServer({
      ctx,
      tokens,
      allowedHosts: allowedHosts(host, extraHosts),
      policyFiles: policyDirectory(policiesDir === undefined ? undefined : resolve(policiesDir)),
      requests: new RequestDurations(),
      ...(controller ? { controller: () => controller.stats() } : {}),
    });
    await new Promise<void>((done, reject) => {
      server.once("error", reject);
      server.listen(port, host, () => done());
    });
    const address = server.address();
    const bound =
      typeof address === "object" && address
        ? `${address.family === "IPv6" ? `[${address.address}]` : address.address}:${address.port}`
        : String(address);
    process.stdout.write(
      `canary serve listening on http://${bound} (${tokens.length} token${tokens.length === 1 ? "" : "s"})\n`,
    );
    if (!isLoopbackHost(host) && tokens.length === 0)
      process.stderr.write(
        "canary serve: WARNING: --insecure-no-auth: the read-only routes answer anyone who can reach this address\n",
      );
    const stopController = new AbortController();
    const controlling = controller?.run(stopController.signal);
    const delivery = deliveryLoop(ctx.ledger, {
      ...(publicUrl ? { publicUrl } : {}),
      onError: (message) => process.stderr.write(`canary serve: notification delivery: ${message}\n`),
    });
    await new Promise<void>((done) => {
      process.once("SIGINT", done);
      process.once("SIGTERM", done);
    });
    stopController.abort();
    await controlling;
    server.close();
    server.closeAllConnections();
    // A message being sent is finished (or its lease released), never left to be sent twice.
    await delivery.stop();
    ctx.ledger.close();
    return 0;
  },
};
