import { z } from "zod";
import { InvalidInputError, NotFoundError } from "../core/errors.js";
import { ID_PATTERN } from "../core/ids.js";
import { findDeployment, listDeployments, listTransitions } from "../ledger/deployments.js";
import { type OperationContext, resolveAt } from "../operations/context.js";
import {
  isExternalLadder,
  recordExternalCompletion,
  recordReportedPercent,
} from "../operations/external-ladder.js";
import { latestSeen } from "../operations/judge.js";
import { loadPolicyArgument } from "../operations/load-policy.js";
import { rollback } from "../operations/rollback.js";
import { startDeployment } from "../operations/start-deployment.js";
import { type VerdictOutput, verdict } from "../operations/verdict.js";
import { POLICY_NAME } from "./policy-name.js";
import type { Answer, Caller } from "./routes.js";

// Flagger's webhooks. Flagger moves the traffic itself and reads only the status code: 2xx lets
// it go on, anything else halts (and a 4xx is not retried as an outage). It does not send its
// weight, so the policy's ladder must list Flagger's steps: the first approved traffic increase
// brings the canary to the first rung, each later one to the next. The deployment id is
// {namespace}.{name}.{checksum}: a new revision (checksum) is a new deployment.

export const FLAGGER_HOOKS = [
  "confirm-rollout",
  "confirm-traffic-increase",
  "confirm-promotion",
  "rollback",
  "event",
] as const;
export type FlaggerHook = (typeof FLAGGER_HOOKS)[number];

/** Flagger's CanaryWebhookPayload (pkg/apis/flagger/v1beta1): extra fields are ignored, as Flagger may add some. */
export const flaggerPayloadSchema = z.object({
  name: z.string().min(1, "name: the Canary's name is missing").max(253),
  namespace: z.string().min(1, "namespace: the Canary's namespace is missing").max(63),
  phase: z.string().max(64).optional(),
  checksum: z.string().min(1, "checksum is empty").max(64).optional(),
  metadata: z.record(z.string(), z.string()).optional(),
});
export type FlaggerPayload = z.infer<typeof flaggerPayloadSchema>;

function parsePayload(body: unknown): FlaggerPayload {
  const parsed = flaggerPayloadSchema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue?.path.map(String).join(".") || "body";
    throw new InvalidInputError(
      field,
      `${issue?.message ?? "invalid"}: expected Flagger's webhook body {name, namespace, phase, checksum, metadata}`,
    );
  }
  return parsed.data;
}

function deploymentIdOf(p: FlaggerPayload): string {
  if (!p.checksum)
    throw new InvalidInputError(
      "checksum",
      "the body has no checksum: it names the revision under analysis (Flagger sends it in every webhook body); upgrade Flagger",
    );
  const id = `${p.namespace}.${p.name}.${p.checksum}`;
  if (!ID_PATTERN.test(id))
    throw new InvalidInputError(
      "name",
      `the deployment id ${JSON.stringify(id)} ({namespace}.{name}.{checksum}) is not a valid id: at most 128 letters, digits, '.', '_', ':' or '-'`,
    );
  return id;
}

/** The deployment for this revision, started from `metadata.policy` on its first hook. */
function ensureDeployment(ctx: OperationContext, p: FlaggerPayload, id: string, hook: FlaggerHook) {
  const existing = findDeployment(ctx.ledger, id);
  if (existing) return existing;
  const policyName = p.metadata?.policy;
  if (policyName === undefined || hook === "event" || hook === "rollback")
    throw new NotFoundError(
      "deployment_id",
      `no deployment ${id}${policyName === undefined ? "; add metadata.policy (a policy file under serve's --policies) to the Canary's webhooks so the first hook starts it" : ""}`,
    );
  if (!POLICY_NAME.test(policyName))
    throw new InvalidInputError(
      "metadata.policy",
      "name a policy file by a relative path under serve's --policies directory (no '..', no leading '/')",
    );
  const { policy } = loadPolicyArgument(ctx, policyName);
  if (!isExternalLadder(policy))
    throw new InvalidInputError(
      "metadata.policy",
      `${policyName} must say ladder_owner: external: Flagger moves the traffic, canary-pilot judges it`,
    );
  // A new revision supersedes the one Flagger was analysing: Flagger restarts its analysis too.
  const prefix = `${p.namespace}.${p.name}.`;
  for (const d of listDeployments(ctx.ledger, { activeOnly: true, limit: 500 }))
    if (d.id.startsWith(prefix) && d.service === policy.service)
      rollback(ctx, {
        deployment_id: d.id,
        reason: `superseded by revision ${p.checksum} of ${p.namespace}/${p.name}`,
      });
  startDeployment(ctx, {
    deployment_id: id,
    policy: policyName,
    version: p.checksum ?? "",
    author: `flagger:${p.namespace}/${p.name}`,
  });
  return findDeployment(ctx.ledger, id)!;
}

function answer(status: number, hook: FlaggerHook, v: VerdictOutput | undefined, extra: object = {}): Answer {
  return { status, body: { hook, ...(v ?? {}), ...extra } };
}

/**
 * One Flagger webhook call. confirm-*: 200 when the verdict lets Flagger go on, 403 when it holds
 * (or rolled back); rollback: 200 when the verdict is rollback, else 403; event: 202.
 */
export function flaggerHook(
  base: OperationContext,
  caller: Caller | undefined,
  hook: string,
  body: unknown,
): Answer {
  if (!(FLAGGER_HOOKS as readonly string[]).includes(hook))
    throw new NotFoundError(
      "hook",
      `unknown Flagger hook ${JSON.stringify(hook)}; one of ${FLAGGER_HOOKS.join(", ")}`,
    );
  const h = hook as FlaggerHook;
  if (!caller)
    return {
      status: 401,
      body: {
        error: {
          field: "authorization",
          message: "Flagger's webhooks act: send an operator token (Authorization: Bearer <token>)",
        },
      },
      headers: { "www-authenticate": 'Bearer realm="canary"' },
    };
  if (caller.role !== "operator")
    return {
      status: 403,
      body: {
        error: {
          field: "authorization",
          message: `${caller.actor} is a viewer; Flagger's webhooks need an operator token`,
        },
      },
    };
  const ctx = { ...base, actor: caller.actor };
  const payload = parsePayload(body);
  const id = deploymentIdOf(payload);
  return ctx.ledger.write((): Answer => {
    const d = ensureDeployment(ctx, payload, id, h);
    const now = resolveAt(ctx, undefined, latestSeen(ctx, d));
    switch (h) {
      case "event": {
        if (payload.phase === "Failed" && (d.state === "canary" || d.state === "paused"))
          rollback(ctx, {
            deployment_id: d.id,
            reason:
              `Flagger reports the canary failed: ${payload.metadata?.eventMessage ?? "no message"}`.slice(
                0,
                2000,
              ),
          });
        return { status: 202, body: { hook: h, deployment_id: d.id, accepted: true } };
      }
      case "confirm-rollout": {
        const ok = d.state === "canary" || d.state === "completed";
        return answer(ok ? 200 : 403, h, undefined, {
          deployment_id: d.id,
          state: d.state,
          percent: d.percent,
        });
      }
      case "confirm-traffic-increase": {
        // Flagger asks before each increase; the first brings the canary from 0 to the first rung,
        // and its window starts then.
        const increased = listTransitions(ctx.ledger, d.id).some((t) => t.kind === "promote");
        if (!increased && d.state === "canary") {
          recordReportedPercent(ctx, d, d.percent, now, {
            restart: true,
            reason: "Flagger's first traffic increase",
          });
          return answer(200, h, undefined, {
            deployment_id: d.id,
            percent: d.percent,
            reason_codes: ["first_increase"],
            reasons: [`Flagger's first traffic increase: the canary's window at ${d.percent}% starts now`],
          });
        }
        const v = verdict(ctx, { deployment_id: d.id });
        if (v.verdict !== "promote") return answer(403, h, v);
        const next = d.policy.ladder[d.step + 1];
        if (!next || d.step + 1 >= d.policy.ladder.length - 1)
          return answer(403, h, v, {
            reason_codes: [...v.reason_codes, "ladder_top"],
            reasons: [
              ...v.reasons,
              `the ladder has no canary rung above ${d.percent}%: set the Canary's maxWeight to the last canary rung so Flagger asks for promotion instead`,
            ],
          });
        const moved = recordReportedPercent(ctx, d, next.percent, now, {
          reason: "Flagger's traffic increase",
        });
        return answer(200, h, v, { percent: moved.percent });
      }
      case "confirm-promotion": {
        const v = verdict(ctx, { deployment_id: d.id });
        if (v.verdict !== "promote") return answer(403, h, v);
        const done = recordExternalCompletion(
          ctx,
          findDeployment(ctx.ledger, d.id)!,
          now,
          "Flagger promotes the canary",
        );
        return answer(200, h, v, { state: done.state, percent: 100 });
      }
      case "rollback": {
        const v = verdict(ctx, { deployment_id: d.id });
        return answer(v.verdict === "rollback" ? 200 : 403, h, v);
      }
    }
  });
}
