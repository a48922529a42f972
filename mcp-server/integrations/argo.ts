import { InvalidInputError } from "../core/errors.js";
import { ID_PATTERN } from "../core/ids.js";
import type { OperationContext } from "../operations/context.js";
import { reportedPercent } from "../operations/external-ladder.js";
import { verdict } from "../operations/verdict.js";
import type { Answer, Auth } from "./routes.js";

// Argo Rollouts' `web` metric provider: `GET /v1/deployments/{id}/verdict[?percent=P]` answers 200
// with the verdict; the AnalysisTemplate's successCondition / failureCondition read `verdict`, and
// a hold matches neither, so the measurement is inconclusive and the Rollout pauses.

export function argoVerdict(ctx: OperationContext, auth: Auth, id: string, query: URLSearchParams): Answer {
  if (!ID_PATTERN.test(id)) throw new InvalidInputError("deployment_id", "not a deployment id");
  const raw = query.get("percent");
  const at = query.get("at") ?? undefined;
  if (auth.tokensConfigured && !auth.caller)
    return {
      status: 401,
      body: {
        error: {
          field: "authorization",
          message: "send a viewer or operator token (Authorization: Bearer <token>)",
        },
      },
      headers: { "www-authenticate": 'Bearer realm="canary"' },
    };
  if (raw !== null && auth.caller?.role !== "operator")
    return {
      status: auth.caller ? 403 : 401,
      body: {
        error: {
          field: "authorization",
          message: auth.caller
            ? `${auth.caller.actor} is a viewer; reporting the traffic percent (?percent=) needs an operator token`
            : "reporting the traffic percent (?percent=) needs an operator token (Authorization: Bearer <token>)",
        },
      },
    };
  const percent = raw === null ? undefined : reportedPercent(raw);
  const actorCtx = auth.caller ? { ...ctx, actor: auth.caller.actor } : ctx;
  return {
    status: 200,
    body: verdict(actorCtx, {
      deployment_id: id,
      ...(percent === undefined ? {} : { percent }),
      ...(at === undefined ? {} : { at }),
    }),
  };
}
