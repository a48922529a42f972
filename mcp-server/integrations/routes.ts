import type { IncomingMessage, ServerResponse } from "node:http";
import { classifyError } from "../core/errors.js";
import { httpStatusOf, readJsonBody } from "../http/answers.js";
import { type TokenTable, tokenForAuthorization } from "../http/tokens.js";
import type { OperationContext } from "../operations/context.js";
import { type PolicyFiles, withPolicyFile } from "../operations/policy-files.js";
import { argoVerdict } from "./argo.js";
import { flaggerHook } from "./flagger.js";
import { ofrepEvaluateBulk, ofrepEvaluateFlag } from "./ofrep.js";
import { registerDeployment } from "./register.js";

// The integration routes on serve (OFREP, the Argo Rollouts verdict, Flagger's webhooks). Each
// parses its request, calls one handler with the caller, and writes the answer; serve's router
// hands every request here first and goes on when this returns false.

export type Role = "viewer" | "operator";
/** Who is calling: from the bearer token; undefined without one. Viewers read; operators also act. */
export interface Caller {
  actor: string;
  role: Role;
}

/** What the routes know about authentication: the caller, and whether serve has any tokens at all. */
export interface Auth {
  caller: Caller | undefined;
  tokensConfigured: boolean;
  /** The caller a token sent some other way names (Flagger's webhooks carry it in metadata.token). */
  callerOfToken: (token: string) => Caller | undefined;
}

/** The caller behind the Authorization header (its token's actor and role). */
export function authFor(tokens: TokenTable, header: string | undefined): Auth {
  const callerOf = (h: string | undefined): Caller | undefined => {
    const entry = tokenForAuthorization(tokens, h);
    // A token entry without a role is an operator's (the token file's plain "token": "actor" form).
    return entry ? { actor: entry.actor, role: entry.role === "viewer" ? "viewer" : "operator" } : undefined;
  };
  return {
    caller: callerOf(header),
    tokensConfigured: tokens.length > 0,
    callerOfToken: (token) => callerOf(`Bearer ${token}`),
  };
}

/** Whether serve hands this request to the integration routes (checked before its own routes). */
export function isIntegrationPath(segments: readonly string[], method: string | undefined): boolean {
  if (segments[0] === "ofrep") return true;
  if (segments[0] !== "v1") return false;
  if (segments[1] === "flagger") return true;
  return (
    segments[1] === "deployments" &&
    ((segments.length === 2 && method === "POST") || (segments.length === 4 && segments[3] === "verdict"))
  );
}

export interface Answer {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export function write(res: ServerResponse, a: Answer): void {
  if (a.body === undefined) {
    res.writeHead(a.status, { "cache-control": "no-cache", ...a.headers });
    res.end();
    return;
  }
  res.writeHead(a.status, {
    "content-type": "application/json",
    "cache-control": "no-cache",
    ...a.headers,
  });
  res.end(JSON.stringify(a.body));
}

const BODY_LIMIT = 64 * 1024;

/** The JSON body, undefined when empty; a bad body is an InvalidInputError on `body`. */
export function readJson(req: IncomingMessage): Promise<unknown> {
  return readJsonBody(req, BODY_LIMIT);
}

/** A typed error as an HTTP answer: the one classifier decides the kind, this only picks the status. */
export function errorAnswer(error: unknown): Answer {
  const e = classifyError(error);
  const [status, headers] = httpStatusOf(e);
  const message = e.kind === "internal" ? "internal error" : e.message;
  return { status, headers, body: { error: { message, ...(e.field ? { field: e.field } : {}) } } };
}

/** Handles the request when it is an integration route; false hands it back to serve's router. */
export async function integrationRoute(
  ctx: OperationContext,
  policyFiles: PolicyFiles,
  auth: Auth,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
): Promise<boolean> {
  const parts = url.pathname.split("/").filter(Boolean);
  let answer: Answer | undefined;
  try {
    if (parts[0] === "ofrep" && parts[1] === "v1" && parts[2] === "evaluate" && parts[3] === "flags") {
      if (req.method !== "POST")
        answer = { status: 405, body: { error: { message: "OFREP evaluates with POST" } } };
      else if (parts.length === 4)
        answer = ofrepEvaluateBulk(ctx, await readOfrepBody(req), headerOf(req, "if-none-match"));
      else if (parts.length === 5) {
        const key = decodeURIComponent(parts[4] ?? "");
        answer = ofrepEvaluateFlag(ctx, key, await readOfrepBody(req));
      }
    } else if (parts[0] === "v1" && parts[1] === "flagger" && parts.length === 3) {
      answer =
        req.method === "POST"
          ? await flaggerRoute(
              ctx,
              policyFiles,
              auth,
              decodeURIComponent(parts[2] ?? ""),
              await readJson(req),
            )
          : { status: 405, body: { error: { message: "Flagger's webhooks are POST" } } };
    } else if (url.pathname === "/v1/deployments" && req.method === "POST") {
      const body = await readJson(req);
      const policy = (body as { policy?: unknown } | undefined)?.policy;
      answer = registerDeployment(await withPolicyFile(ctx, policyFiles, policy), auth.caller, body);
    } else if (
      parts[0] === "v1" &&
      parts[1] === "deployments" &&
      parts.length === 4 &&
      parts[3] === "verdict"
    ) {
      answer =
        req.method === "GET"
          ? argoVerdict(ctx, auth, decodeURIComponent(parts[2] ?? ""), url.searchParams)
          : { status: 405, body: { error: { message: "the verdict is a GET" } } };
    }
  } catch (error) {
    answer = errorAnswer(error);
  }
  if (!answer) return false;
  write(res, answer);
  return true;
}

/** Flagger sends no headers of its own: without an Authorization header the token is metadata.token. */
async function flaggerRoute(
  ctx: OperationContext,
  policyFiles: PolicyFiles,
  auth: Auth,
  hook: string,
  body: unknown,
): Promise<Answer> {
  const metadata = (body as { metadata?: { token?: unknown; policy?: unknown } } | undefined)?.metadata;
  const token = metadata?.token;
  const caller = auth.caller ?? (typeof token === "string" ? auth.callerOfToken(token) : undefined);
  return flaggerHook(await withPolicyFile(ctx, policyFiles, metadata?.policy), caller, hook, body);
}

/** OFREP's own error shape for a body that is not JSON. */
async function readOfrepBody(req: IncomingMessage): Promise<unknown> {
  try {
    return await readJson(req);
  } catch {
    return Symbol.for("unparsable");
  }
}

function headerOf(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}
