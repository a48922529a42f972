import {
  createServer as createNodeServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
  STATUS_CODES,
} from "node:http";
import type { Socket } from "node:net";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import type { ControllerStats } from "../controller/controller.js";
import { classifyError, InvalidInputError, NotFoundError } from "../core/errors.js";
import { ID_PATTERN } from "../core/ids.js";
import { authFor, integrationRoute, isIntegrationPath } from "../integrations/routes.js";
import { createServer as createMcpServer } from "../mcp/server.js";
import type { OperationContext } from "../operations/context.js";
import { deploymentCards, deploymentCardsInput } from "../operations/deployment-cards.js";
import { deploymentHistory } from "../operations/deployment-history.js";
import { deploymentStatus, listDeploymentSummaries } from "../operations/deployment-status.js";
import type { PolicyFiles } from "../operations/policy-files.js";
import { httpStatusOf, readJsonBody } from "./answers.js";
import { hostOfHeader, hostOfOrigin } from "./hosts.js";
import { type RequestDurations, renderMetrics } from "./metrics.js";
import { renderDeploymentPage } from "./pages/deployment.js";
import { RoutingView } from "./routing-view.js";
import { renderStatusPage } from "./status-page.js";
import { parseTarget } from "./target.js";
import { type TokenTable, tokenForAuthorization } from "./tokens.js";

// `canary serve`: the MCP tools over Streamable HTTP (bearer token; the token's owner is the
// actor, its role says whether it may act), read-only REST for routers and gateways, and the
// status page. Every byte of a request is handled inside one error boundary: nothing a client
// sends can end the process or keep it from answering others.

export interface HttpLimits {
  /** Largest request body (MCP and JSON routes). */
  maxBodyBytes: number;
  /** Largest request line plus headers. */
  maxHeaderBytes: number;
  /** A request's headers must arrive within this. */
  headersTimeoutMs: number;
  /** The whole request (headers and body) must arrive within this. */
  requestTimeoutMs: number;
}

export const DEFAULT_LIMITS: HttpLimits = {
  maxBodyBytes: 1024 * 1024,
  maxHeaderBytes: 16 * 1024,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
};

export interface HttpOptions {
  ctx: OperationContext;
  tokens: TokenTable;
  /** Host names requests may name in Host and Origin (see allowedHosts). */
  allowedHosts: ReadonlySet<string>;
  /** Which policy files MCP callers may name (policyDirectory(--policies)). */
  policyFiles: PolicyFiles;
  limits?: Partial<HttpLimits>;
  /** The controller's state, for /readyz and /metrics (absent when this server runs none). */
  controller?: () => ControllerStats;
  /** Request durations for /metrics, observed per route. */
  requests?: RequestDurations;
}

interface Call {
  req: IncomingMessage;
  res: ServerResponse;
  segments: string[];
  query: URLSearchParams;
  /** The `:id` segment, checked against the id pattern. */
  id: string;
}

interface Route {
  method: "GET" | "POST";
  /** Literal segments, or ":id" for a deployment id. */
  path: readonly string[];
  handle: (call: Call) => void | Promise<void>;
}

const JSON_HEADERS = { "content-type": "application/json", "cache-control": "no-store" };

/** The hot path for routers: a JSON answer with fixed headers. */
function sendJson(res: ServerResponse, body: unknown): void {
  res.writeHead(200, JSON_HEADERS);
  res.end(JSON.stringify(body));
}

function send(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = typeof body === "string" ? body : JSON.stringify(body);
  res.writeHead(status, {
    "content-type": typeof body === "string" ? "text/html; charset=utf-8" : "application/json",
    "cache-control": "no-store",
    ...headers,
  });
  res.end(text);
}

function problem(
  res: ServerResponse,
  status: number,
  message: string,
  field?: string,
  headers: Record<string, string> = {},
): void {
  send(res, status, { error: { message, ...(field ? { field } : {}) } }, headers);
}

/** The HTTP answer for an error: the classification decides, this only formats. */
function failure(res: ServerResponse, error: unknown): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const c = classifyError(error);
  const [status, headers] = httpStatusOf(c);
  if (c.kind === "internal") {
    // Unexpected failures are logged here, never sent (they may carry internals).
    process.stderr.write(`canary serve: internal error: ${c.message}\n`);
    problem(res, 500, "internal error");
    return;
  }
  problem(res, status, c.message, c.kind === "busy" || c.kind === "integrity" ? undefined : c.field, headers);
}

export function createHttpServer(options: HttpOptions): Server {
  const { tokens, allowedHosts, policyFiles } = options;
  // Over HTTP no file is read but through policyFiles (tool calls get it per call): anything
  // else that asks for a policy file is refused.
  const ctx: OperationContext = {
    ...options.ctx,
    readPolicyFile: () => {
      throw new InvalidInputError(
        "policy",
        "over HTTP pass the policy inline, or as a path under --policies",
      );
    },
  };
  const limits = { ...DEFAULT_LIMITS, ...options.limits };
  const view = new RoutingView(ctx);

  function routingOf(id: string) {
    const entry = view.get(id);
    if (!entry) throw new NotFoundError("deployment_id", `no deployment ${JSON.stringify(id)}`);
    return entry;
  }

  async function mcp({ req, res }: Call): Promise<void> {
    const who = tokenForAuthorization(tokens, req.headers.authorization);
    if (!who) {
      const why = tokens.length
        ? "a valid bearer token is required (Authorization: Bearer <token>)"
        : "no tokens are configured (--tokens FILE or CANARY_TOKENS): MCP over HTTP is closed";
      return problem(res, 401, why, "authorization", { "www-authenticate": 'Bearer realm="canary"' });
    }
    res.on("error", () => undefined);
    const body = await readJsonBody(req, limits.maxBodyBytes);
    // Stateless: one server and transport per request, acting as the token's owner.
    const server = createMcpServer(
      { ...ctx, actor: who.actor },
      { canWrite: who.role === "operator", policyFiles },
    );
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: undefined,
      enableJsonResponse: true,
    });
    res.on("close", () => {
      // A tool may have written: routing answers must show it from the next request on.
      view.invalidate();
      void transport.close();
      void server.close();
    });
    await server.connect(transport);
    await transport.handleRequest(req, res, body);
  }

  const routes: Route[] = [
    { method: "POST", path: ["mcp"], handle: mcp },
    { method: "GET", path: ["healthz"], handle: ({ res }) => sendJson(res, { ok: true }) },
    {
      method: "GET",
      path: ["readyz"],
      // Ready once the ledger answers; `leader` says whether this process's controller acts.
      handle: ({ res }) => {
        ctx.ledger.read(() => ctx.ledger.changeToken());
        const c = options.controller?.();
        sendJson(res, {
          ready: true,
          controller: c ? "running" : "off",
          leader: c?.leader ?? false,
          lease_holder: c?.lease?.holder ?? null,
          lease_expires_at: c?.lease ? new Date(c.lease.expires_at).toISOString() : null,
        });
      },
    },
    {
      method: "GET",
      path: ["metrics"],
      handle: ({ res }) => {
        const text = renderMetrics(ctx.ledger, {
          now: Date.now(),
          ...(options.controller ? { controller: options.controller() } : {}),
          ...(options.requests ? { requests: options.requests } : {}),
          ...(ctx.judgeStates ? { judges: ctx.judgeStates.stats() } : {}),
        });
        res.writeHead(200, {
          "content-type": "text/plain; version=0.0.4; charset=utf-8",
          "cache-control": "no-store",
        });
        res.end(text);
      },
    },
    {
      method: "GET",
      path: [],
      handle: ({ res, query }) => {
        const page = deploymentCardsInput.safeParse({
          page: query.get("page") ?? undefined,
          per_page: query.get("per_page") ?? undefined,
        });
        if (!page.success)
          return problem(
            res,
            400,
            page.error.issues[0]?.message ?? "bad page",
            String(page.error.issues[0]?.path[0]),
          );
        send(
          res,
          200,
          ctx.ledger.read(() => renderStatusPage(deploymentCards(ctx, page.data), new Date())),
        );
      },
    },
    {
      method: "GET",
      path: ["deployments", ":id"],
      handle: ({ res, id }) => {
        const { history, audit } = ctx.ledger.read(() => deploymentHistory(ctx, { deployment_id: id }));
        send(res, 200, renderDeploymentPage(history, audit, { refresh: true, home: "/" }));
      },
    },
    {
      method: "GET",
      path: ["v1", "deployments", ":id", "history"],
      handle: ({ res, id }) =>
        send(
          res,
          200,
          ctx.ledger.read(() => deploymentHistory(ctx, { deployment_id: id }).history),
        ),
    },
    {
      method: "GET",
      path: ["v1", "deployments"],
      handle: ({ res, query }) =>
        send(res, 200, listDeploymentSummaries(ctx, { active_only: query.get("active") === "true" })),
    },
    {
      method: "GET",
      path: ["v1", "deployments", ":id"],
      handle: ({ res, id }) => send(res, 200, deploymentStatus(ctx, { deployment_id: id })),
    },
    {
      method: "GET",
      path: ["v1", "deployments", ":id", "routing"],
      handle: ({ req, res, id }) => {
        const entry = routingOf(id);
        if (req.headers["if-none-match"] === entry.etag) {
          res.writeHead(304, { etag: entry.etag, "cache-control": "no-cache" });
          res.end();
          return;
        }
        res.writeHead(200, {
          "content-type": "application/json",
          etag: entry.etag,
          "cache-control": "no-cache",
        });
        res.end(entry.json);
      },
    },
    {
      method: "GET",
      path: ["v1", "deployments", ":id", "assign"],
      handle: ({ res, id, query }) => {
        const unit = query.get("unit");
        if (!unit) return problem(res, 400, "pass the unit id as ?unit=", "unit");
        const { routing } = routingOf(id);
        let attributes: Record<string, string> | undefined;
        for (const [k, v] of query) {
          if (!k.startsWith("attr.")) continue;
          attributes ??= {};
          attributes[k.slice(5)] = v;
        }
        const a = ctx.assigner.assign({
          deploymentId: routing.deployment_id,
          unitId: unit,
          percent: routing.percent,
          attributes,
          population: routing.population ?? undefined,
        });
        sendJson(res, { cohort: a.cohort, bucket: a.bucket, percent: routing.percent });
      },
    },
  ];

  // Routes in a small tree of path segments (a literal beats ":id"), so finding one costs a few
  // map lookups however many routes there are.
  interface RouteNode {
    literal: Map<string, RouteNode>;
    param?: RouteNode;
    routes: Route[];
  }
  const tree: RouteNode = { literal: new Map(), routes: [] };
  const labels = new Map(
    routes.map((r) => [r, `/${r.path.map((p) => (p === ":id" ? "{id}" : p)).join("/")}`]),
  );
  for (const r of routes) {
    let node = tree;
    for (const p of r.path) {
      let next = p === ":id" ? node.param : node.literal.get(p);
      if (!next) {
        next = { literal: new Map(), routes: [] };
        if (p === ":id") node.param = next;
        else node.literal.set(p, next);
      }
      node = next;
    }
    node.routes.push(r);
  }

  function match(segments: string[]): { routes: Route[]; id: string } {
    let node: RouteNode | undefined = tree;
    let id = "";
    for (const seg of segments) {
      const lit: RouteNode | undefined = node.literal.get(seg);
      if (lit) node = lit;
      else if (node.param) {
        id = seg;
        node = node.param;
      } else return { routes: [], id };
    }
    return { routes: node.routes, id };
  }

  /** Host (and Origin, which browsers send on cross-site requests) must name this server. */
  let lastGoodHost: string | undefined;
  function foreignHost(req: IncomingMessage): string | undefined {
    const host = req.headers.host;
    if (!host) return "the request has no Host header";
    if (host !== lastGoodHost) {
      const name = hostOfHeader(host);
      if (!name || !allowedHosts.has(name))
        return "the Host header names a host this server does not answer to (see --allowed-host)";
      lastGoodHost = host;
    }
    const origin = req.headers.origin;
    if (origin !== undefined) {
      const o = hostOfOrigin(origin);
      if (!o || !allowedHosts.has(o))
        return "the Origin header names a site this server does not answer to (see --allowed-host)";
    }
    return undefined;
  }

  /** OFREP, the Argo Rollouts verdict, Flagger's webhooks and controllers' registration (integrations/). */
  async function integrationCall(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://localhost");
    const handled = await integrationRoute(
      ctx,
      policyFiles,
      authFor(tokens, req.headers.authorization),
      req,
      res,
      url,
    );
    if (!handled) problem(res, 404, "no such route (see GET /v1/deployments)");
  }

  /** Synchronous for the plain GET routes (no promise per request); async routes return theirs. */
  function handle(req: IncomingMessage, res: ServerResponse): void | Promise<void> {
    const refusedHost = foreignHost(req);
    if (refusedHost) return problem(res, req.headers.host ? 403 : 400, refusedHost, "host");
    const { segments, query } = parseTarget(req.url);
    if (isIntegrationPath(segments, req.method)) return integrationCall(req, res);
    const { routes: found, id } = match(segments);
    if (found.length === 0) return problem(res, 404, "no such route (see GET /v1/deployments)");
    const method = req.method === "HEAD" ? "GET" : req.method;
    const route = found.find((r) => r.method === method);
    if (!route) {
      const allow = found.map((r) => r.method).join(", ");
      return problem(res, 405, `this route answers ${allow} only`, undefined, { allow });
    }
    if (route.path.includes(":id") && !ID_PATTERN.test(id))
      return problem(res, 400, "not a deployment id", "deployment_id");
    routeLabel = labels.get(route) ?? "other";
    return route.handle({ req, res, segments, query, id });
  }

  // The route the latest request matched, read right after handle() returns (for /metrics).
  let routeLabel = "other";
  const requests = options.requests;
  const observe = (label: string, req: IncomingMessage, res: ServerResponse, started: number) =>
    requests?.observe(label, req.method ?? "GET", res.statusCode, (performance.now() - started) / 1000);

  const server = createNodeServer(
    {
      maxHeaderSize: limits.maxHeaderBytes,
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      // How often Node checks the two timeouts above (its default, 30 s, lets slow clients linger).
      connectionsCheckingInterval: Math.min(1_000, limits.headersTimeoutMs),
      keepAliveTimeout: 5_000,
    },
    (req, res) => {
      // (Node emits no 'error' on a request nobody listens to; routes that read bodies handle theirs.)
      const fail = (error: unknown) => {
        // A client that went away (aborted body) gets nothing more.
        if (req.destroyed && !req.complete) return void res.destroy();
        try {
          failure(res, error);
        } catch {
          res.destroy();
        }
      };
      const started = performance.now();
      routeLabel = "other";
      try {
        const pending = handle(req, res);
        const label = routeLabel;
        if (pending) void pending.catch(fail).finally(() => observe(label, req, res, started));
        else observe(label, req, res, started);
      } catch (error) {
        fail(error);
        observe(routeLabel, req, res, started);
      }
    },
  );
  // Requests Node cannot parse (bad request line, header overflow, timeouts) never reach the
  // handler: answer them here and close the connection.
  server.on("clientError", (error: NodeJS.ErrnoException, socket: Socket) => {
    if (error.code === "ECONNRESET" || !socket.writable) {
      socket.destroy();
      return;
    }
    const status =
      error.code === "HPE_HEADER_OVERFLOW" ? 431 : error.code === "ERR_HTTP_REQUEST_TIMEOUT" ? 408 : 400;
    socket.end(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`,
    );
  });
  return server;
}
