import { InvalidInputError, RefusedError } from "../core/errors.js";
import { findDeployment } from "../ledger/deployments.js";
import type { OperationContext } from "../operations/context.js";
import { loadPolicyArgument } from "../operations/load-policy.js";
import { startDeployment, startDeploymentInput } from "../operations/start-deployment.js";
import { POLICY_NAME } from "./policy-name.js";
import type { Answer, Caller } from "./routes.js";

// `POST /v1/deployments`: another controller registers the revision it is about to shift traffic
// to (an Argo Rollouts pre-step, a CI job). Argo may run the step again, so the same id with the
// same policy and version is a safe repeat (200, moved: false); a first start answers 201.

export function registerDeployment(
  base: OperationContext,
  caller: Caller | undefined,
  body: unknown,
): Answer {
  if (caller?.role !== "operator")
    return {
      status: caller ? 403 : 401,
      body: {
        error: {
          field: "authorization",
          message: caller
            ? `${caller.actor} is a viewer; starting a deployment needs an operator token`
            : "starting a deployment needs an operator token (Authorization: Bearer <token>)",
        },
      },
    };
  const input = startDeploymentInput.parse(body ?? {});
  if (typeof input.policy === "string" && !POLICY_NAME.test(input.policy))
    throw new InvalidInputError(
      "policy",
      "over HTTP a policy is an inline object or a relative path under serve's --policies directory (no '..', no leading '/')",
    );
  const ctx = { ...base, actor: caller.actor };
  return ctx.ledger.write((): Answer => {
    const existing = findDeployment(ctx.ledger, input.deployment_id);
    if (existing) {
      const { sha256 } = loadPolicyArgument(ctx, input.policy);
      if (sha256 !== existing.policy_sha256 || (input.version ?? null) !== existing.version)
        throw new RefusedError(
          "deployment_exists",
          `deployment ${existing.id} already exists with another policy or version; ids are never reused, register the new revision under a new id`,
        );
      return {
        status: 200,
        body: {
          deployment_id: existing.id,
          state: existing.state,
          step: existing.step,
          percent: existing.percent,
          service: existing.service,
          policy_sha256: existing.policy_sha256,
          moved: false,
        },
      };
    }
    return { status: 201, body: { ...startDeployment(ctx, input), moved: true } };
  });
}
