import { z } from "zod";
import { deploymentStateSchema } from "../core/deployment.js";
import { InvalidInputError, RefusedError } from "../core/errors.js";
import { deploymentIdSchema } from "../core/ids.js";
import { templatePlaceholders } from "../core/policy/promql-template.js";
import type { Policy } from "../core/policy/schema.js";
import { policyWarnings } from "../core/policy/warnings.js";
import { auditHead } from "../ledger/audit.js";
import {
  activeDeploymentOfService,
  findDeployment,
  insertDeployment,
  recordTransition,
} from "../ledger/deployments.js";
import { setDeploymentVars } from "../ledger/source.js";
import { type OperationContext, resolveAt } from "./context.js";
import { recordEvent } from "./events.js";
import { loadPolicyArgument } from "./load-policy.js";

export const startDeploymentInput = z.strictObject({
  deployment_id: deploymentIdSchema,
  service: z
    .string()
    .min(1)
    .max(128)
    .optional()
    .describe("Defaults to the policy's service; must match it when both are given"),
  version: z
    .string()
    .min(1)
    .max(128)
    .optional()
    .describe("The version being rolled out, e.g. a git sha or tag"),
  policy: z
    .union([
      z.string().min(1).describe("Path to a YAML or JSON policy file"),
      z.record(z.string(), z.unknown()).describe("Inline policy object"),
    ])
    .describe("A policy file path or an inline policy object"),
  author: z.string().min(1).max(256).optional().describe("The change's author: told on rollback"),
  vars: z
    .record(
      z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/, "a variable name: letters, digits and '_'"),
      z.string().max(256),
    )
    .optional()
    .describe("Values for {{vars.NAME}} in the policy's source queries (escaped as PromQL strings)"),
  at: z.string().optional().describe("Manual clock only: ISO-8601 time to treat as now"),
});
export type StartDeploymentInput = z.infer<typeof startDeploymentInput>;

export const startDeploymentOutput = z.object({
  deployment_id: z.string(),
  state: deploymentStateSchema,
  step: z.number().int(),
  percent: z.number(),
  service: z.string(),
  policy_sha256: z.string(),
  started_at: z.string(),
  audit_head: z.string(),
  moved: z
    .boolean()
    .describe(
      "False when this id was already started with the same policy and version (a safe repeat: nothing changed)",
    ),
  warnings: z
    .array(z.object({ path: z.string(), message: z.string() }))
    .describe("The policy's warnings from validate_policy: valid, but check they say what you meant"),
  source_check: z
    .object({ ok: z.boolean(), problems: z.array(z.string()) })
    .optional()
    .describe("With a metric source: the pre-flight of its queries (a warning; it never blocks the start)"),
});
export type StartDeploymentOutput = z.infer<typeof startDeploymentOutput>;

export function startDeployment(ctx: OperationContext, input: StartDeploymentInput): StartDeploymentOutput {
  const { policy, sha256 } = loadPolicyArgument(ctx, input.policy);
  if (input.service !== undefined && input.service !== policy.service) {
    throw new InvalidInputError(
      "service",
      `service ${JSON.stringify(input.service)} does not match the policy's service ${JSON.stringify(policy.service)}; omit service or fix the policy`,
    );
  }
  checkSourcePlaceholders(policy, input);
  const at = resolveAt(ctx, input.at, undefined);
  const first = policy.ladder[0]!;
  return ctx.ledger.write(() => {
    const ledger = ctx.ledger;
    const existing = findDeployment(ledger, input.deployment_id);
    if (existing) {
      // A retried CI step: same id, policy and version is the start that already happened.
      if (existing.policy_sha256 === sha256 && existing.version === (input.version ?? null)) {
        return {
          deployment_id: existing.id,
          state: existing.state,
          step: existing.step,
          percent: existing.percent,
          service: existing.service,
          policy_sha256: existing.policy_sha256,
          started_at: new Date(existing.created_at).toISOString(),
          audit_head: auditHead(ledger),
          moved: false,
          warnings: policyWarnings(policy),
        };
      }
      throw new RefusedError(
        "deployment_exists",
        `deployment ${input.deployment_id} already exists with ${existing.policy_sha256 !== sha256 ? `another policy (sha256 ${existing.policy_sha256.slice(0, 12)}…)` : `version ${JSON.stringify(existing.version)}`}; ids are never reused: start the new one with another id (repeating the same start, same policy and version, is a safe no-op)`,
      );
    }
    const active = activeDeploymentOfService(ledger, policy.service);
    if (active) {
      throw new RefusedError(
        "one_active_per_service",
        `service ${policy.service} already has an active canary (${active}); finish or roll it back first`,
      );
    }
    const record = {
      id: input.deployment_id,
      service: policy.service,
      version: input.version ?? null,
      author: input.author ?? null,
      policy,
      policy_sha256: sha256,
      state: "canary" as const,
      step: 0,
      percent: first.percent,
      created_at: at,
      step_started_at: at,
      last_event_at: at,
      ended_at: null,
      started_by: ctx.actor,
    };
    insertDeployment(ledger, record);
    if (input.vars && Object.keys(input.vars).length > 0) setDeploymentVars(ledger, record.id, input.vars);
    recordTransition(ledger, {
      deploymentId: record.id,
      kind: "start",
      fromStep: null,
      toStep: 0,
      percent: first.percent,
      state: "canary",
      actor: ctx.actor,
      at,
    });
    const { head } = recordEvent(ctx, record, {
      action: "start",
      at,
      notify: "started",
      state: "canary",
      step: 0,
      percent: first.percent,
      details: {
        service: record.service,
        version: record.version,
        author: record.author,
        policy_sha256: sha256,
        ladder: policy.ladder.map((r) => r.percent),
      },
    });
    return {
      deployment_id: record.id,
      state: record.state,
      step: 0,
      percent: first.percent,
      service: record.service,
      policy_sha256: sha256,
      started_at: new Date(at).toISOString(),
      audit_head: head,
      moved: true,
      warnings: policyWarnings(policy),
    };
  });
}

/** Every placeholder a source query uses must have a value for this deployment. */
function checkSourcePlaceholders(policy: Policy, input: StartDeploymentInput): void {
  for (const [series, query] of Object.entries(policy.source?.series ?? {})) {
    for (const name of templatePlaceholders(query)) {
      if (name === "version" && input.version === undefined)
        throw new InvalidInputError(
          "version",
          `source.series.${series} uses {{version}}; pass the version being rolled out`,
        );
      if (name.startsWith("vars.") && input.vars?.[name.slice(5)] === undefined)
        throw new InvalidInputError(
          name,
          `source.series.${series} uses {{${name}}}; pass it in vars (canary start --var ${name.slice(5)}=VALUE)`,
        );
    }
  }
}
