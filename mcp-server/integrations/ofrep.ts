import { createHash } from "node:crypto";
import { listDeployments } from "../ledger/deployments.js";
import type { OperationContext } from "../operations/context.js";
import { evaluateCohortFlag, type FlagContext, FlagError } from "./cohort-flag.js";
import { deploymentForFlag, routingStateOf } from "./routing-view.js";

// OFREP (the OpenFeature Remote Evaluation Protocol) on serve: any OpenFeature SDK with an OFREP
// provider (Go, Java, Python, .NET, JS) routes by our cohorts with no code of ours. Shapes follow
// the protocol's OpenAPI: success {key, value, variant, reason, metadata}; failure {key, errorCode,
// errorDetails} with 400 (bad context) or 404 (unknown flag); bulk {flags: [...]} with an ETag.

export interface OfrepAnswer {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

/** The request's context, or a FlagError (PARSE_ERROR / INVALID_CONTEXT) naming what is wrong. */
function contextOf(body: unknown): FlagContext {
  if (body === undefined) return {};
  if (typeof body !== "object" || body === null || Array.isArray(body))
    throw new FlagError(
      "PARSE_ERROR",
      'the body must be a JSON object: {"context": {"targetingKey": "..."}}',
    );
  const context = (body as { context?: unknown }).context;
  if (context === undefined) return {};
  if (typeof context !== "object" || context === null || Array.isArray(context))
    throw new FlagError("INVALID_CONTEXT", "context must be an object with targetingKey and attributes");
  return context as FlagContext;
}

function failure(key: string, error: FlagError): OfrepAnswer {
  return {
    status: error.code === "FLAG_NOT_FOUND" ? 404 : 400,
    body: { key, errorCode: error.code, errorDetails: error.message },
  };
}

function evaluateOne(ctx: OperationContext, key: string, context: FlagContext) {
  const d = ctx.ledger.read(() => deploymentForFlag(ctx.ledger, key));
  if (!d)
    throw new FlagError(
      "FLAG_NOT_FOUND",
      `no deployment or service named ${JSON.stringify(key)} (flag key = deployment id or service)`,
    );
  const flag = evaluateCohortFlag(ctx.assigner, routingStateOf(ctx.assigner, d), context);
  return { key, value: flag.value, variant: flag.variant, reason: flag.reason, metadata: flag.metadata };
}

/** `POST /ofrep/v1/evaluate/flags/{key}` */
export function ofrepEvaluateFlag(ctx: OperationContext, key: string, body: unknown): OfrepAnswer {
  try {
    return { status: 200, body: evaluateOne(ctx, key, contextOf(body)) };
  } catch (error) {
    if (error instanceof FlagError) return failure(key, error);
    throw error;
  }
}

/**
 * `POST /ofrep/v1/evaluate/flags`: every active deployment, keyed by its id and by its service,
 * plus recently ended ones by id. The ETag covers the answer, so a poller whose context and
 * deployments are unchanged gets 304.
 */
export function ofrepEvaluateBulk(
  ctx: OperationContext,
  body: unknown,
  ifNoneMatch: string | undefined,
): OfrepAnswer {
  let context: FlagContext;
  try {
    context = contextOf(body);
    if (typeof context.targetingKey !== "string" || context.targetingKey.length === 0)
      throw new FlagError(
        "TARGETING_KEY_MISSING",
        "the evaluation context needs a targetingKey: the unit id (user, account or device) to route",
      );
  } catch (error) {
    if (error instanceof FlagError)
      return { status: 400, body: { errorCode: error.code, errorDetails: error.message } };
    throw error;
  }
  const deployments = ctx.ledger.read(() => listDeployments(ctx.ledger, { limit: 200 }));
  const flags: unknown[] = [];
  const services = new Set<string>();
  for (const d of deployments) {
    const keys = [d.id];
    // The list comes active first, then the most recent: the first per service is its flag.
    if (!services.has(d.service)) {
      services.add(d.service);
      keys.push(d.service);
    }
    for (const key of keys) {
      try {
        const flag = evaluateCohortFlag(ctx.assigner, routingStateOf(ctx.assigner, d), context);
        flags.push({
          key,
          value: flag.value,
          variant: flag.variant,
          reason: flag.reason,
          metadata: flag.metadata,
        });
      } catch (error) {
        if (!(error instanceof FlagError)) throw error;
        flags.push({ key, errorCode: error.code, errorDetails: error.message });
      }
    }
  }
  const answer = { flags };
  const etag = `"${createHash("sha256").update(JSON.stringify(answer)).digest("base64url").slice(0, 27)}"`;
  if (ifNoneMatch === etag) return { status: 304, headers: { etag } };
  return { status: 200, body: answer, headers: { etag } };
}
