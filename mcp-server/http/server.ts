import { createHash } from "node:crypto";
import {
  createServer as createNodeServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from "node:http";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { InvalidInputError, RefusedError } from "../core/errors.js";
import { ID_PATTERN } from "../core/ids.js";
import { getDeployment } from "../ledger/deployments.js";
import { createServer as createMcpServer } from "../mcp/server.js";
import { assignCohort } from "../operations/assign-cohort.js";
import type { OperationContext } from "../operations/context.js";
import { deploymentCards, deploymentCardsInput } from "../operations/deployment-cards.js";
import { deploymentHistory } from "../operations/deployment-history.js";
import { deploymentStatus, listDeploymentSummaries } from "../operations/deployment-status.js";
import { renderDeploymentPage } from "./pages/deployment.js";
import { renderStatusPage } from "./status-page.js";
import { actorForAuthorization, type TokenTable } from "./tokens.js";

// `canary serve`: the MCP tools over Streamable HTTP (bearer token; the token's owner is the
// actor), read-only REST for routers and gateways, and the status page. Thin: every route parses
// its input and calls one operation.

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

function errorStatus(error: unknown): { status: number; message: string; field?: string } {
  if (error instanceof InvalidInputError)
    return {
      status: error.field === "deployment_id" && /no deployment/.test(error.message) ? 404 : 400,
      message: error.message,
      field: error.field,
    };
  if (error instanceof RefusedError) return { status: 409, message: error.message, field: error.rule };
  return { status: 500, message: "internal error" };
}

/** Routing for gateways: the current percent and the seed; `excluded` units follow the population. */
function routing(ctx: OperationContext, id: string) {
  const d = getDeployment(ctx.ledger, id);
  return {
    deployment_id: d.id,
    state: d.state,
    percent: d.state === "rolled_back" ? 0 : d.state === "completed" ? 100 : d.percent,
    seed: ctx.assigner.seed(d.id),
    buckets: 10_000,
    population: d.policy.population ?? null,
  };
}

async function readBody(req: IncomingMessage, limit = 4 * 1024 * 1024): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new InvalidInputError("body", `request body over ${limit} bytes`);
    chunks.push(chunk as Buffer);
  }
  if (size === 0) return undefined;
  try {
    return JSON.parse(Buffer.concat(chunks).toString("utf8"));
  } catch {
    throw new InvalidInputError("body", "is not JSON");
  }
}

async function handleMcp(
  ctx: OperationContext,
  tokens: TokenTable,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const actor = actorForAuthorization(tokens, req.headers.authorization);
  if (!actor) {
    const why = tokens.length
      ? "a valid bearer token is required (Authorization: Bearer <token>)"
      : "no tokens are configured (--tokens FILE or CANARY_TOKENS): MCP over HTTP is closed";
    problem(res, 401, why, "authorization", { "www-authenticate": 'Bearer realm="canary"' });
    return;
  }
  if (req.method !== "POST") {
    problem(res, 405, "this server is stateless: POST JSON-RPC requests to /mcp");
    return;
  }
  const body = await readBody(req);
  // Stateless: one server and transport per request, acting as the token's owner.
  const server = createMcpServer({ ...ctx, actor });
  const transport = new StreamableHTTPServerTransport({
    sessionIdGenerator: undefined,
    enableJsonResponse: true,
  });
  res.on("close", () => {
    void transport.close();
    void server.close();
  });
  await server.connect(transport);
  await transport.handleRequest(req, res, body);
}

export interface HttpOptions {
  ctx: OperationContext;
  tokens: TokenTable;
}

export function createHttpServer({ ctx, tokens }: HttpOptions): Server {
  return createNodeServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? "/", "http://localhost");
      const parts = url.pathname.split("/").filter(Boolean).map(decodeURIComponent);
      try {
        if (url.pathname === "/mcp") return await handleMcp(ctx, tokens, req, res);
        if (req.method !== "GET" && req.method !== "HEAD")
          return problem(res, 405, "read-only route: writes go through the MCP tools at POST /mcp");
        if (url.pathname === "/") {
          const page = deploymentCardsInput.safeParse({
            page: url.searchParams.get("page") ?? undefined,
            per_page: url.searchParams.get("per_page") ?? undefined,
          });
          if (!page.success)
            return problem(
              res,
              400,
              page.error.issues[0]?.message ?? "bad page",
              String(page.error.issues[0]?.path[0]),
            );
          return send(res, 200, renderStatusPage(deploymentCards(ctx, page.data), new Date()));
        }
        if (url.pathname === "/healthz") return send(res, 200, { ok: true });
        if (parts[0] === "deployments" && parts.length === 2) {
          const id = parts[1] ?? "";
          if (!ID_PATTERN.test(id)) return problem(res, 400, "not a deployment id", "deployment_id");
          const { history, audit } = deploymentHistory(ctx, { deployment_id: id });
          return send(res, 200, renderDeploymentPage(history, audit, { refresh: true, home: "/" }));
        }
        if (parts[0] === "v1" && parts[1] === "deployments") {
          if (parts.length === 2)
            return send(
              res,
              200,
              listDeploymentSummaries(ctx, { active_only: url.searchParams.get("active") === "true" }),
            );
          const id = parts[2] ?? "";
          if (!ID_PATTERN.test(id)) return problem(res, 400, "not a deployment id", "deployment_id");
          if (parts.length === 3) return send(res, 200, deploymentStatus(ctx, { deployment_id: id }));
          if (parts.length === 4 && parts[3] === "history")
            return send(res, 200, deploymentHistory(ctx, { deployment_id: id }).history);
          if (parts.length === 4 && parts[3] === "routing") {
            const body = routing(ctx, id);
            const tag = `"${createHash("sha256").update(JSON.stringify(body)).digest("base64url").slice(0, 27)}"`;
            if (req.headers["if-none-match"] === tag) {
              res.writeHead(304, { etag: tag, "cache-control": "no-cache" });
              return res.end();
            }
            return send(res, 200, body, { etag: tag, "cache-control": "no-cache" });
          }
          if (parts.length === 4 && parts[3] === "assign") {
            const unit = url.searchParams.get("unit");
            if (!unit) return problem(res, 400, "pass the unit id as ?unit=", "unit");
            const attributes: Record<string, string> = {};
            for (const [k, v] of url.searchParams) if (k.startsWith("attr.")) attributes[k.slice(5)] = v;
            const a = assignCohort(ctx, {
              deployment_id: id,
              unit_id: unit,
              attributes: Object.keys(attributes).length ? attributes : undefined,
            });
            return send(res, 200, { cohort: a.cohort, bucket: a.bucket, percent: a.percent });
          }
        }
        return problem(res, 404, "no such route (see GET /v1/deployments)");
      } catch (error) {
        const e = errorStatus(error);
        if (!res.headersSent) problem(res, e.status, e.message, e.field);
        else res.end();
      }
    })();
  });
}
