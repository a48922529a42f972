import { z } from "zod";
import { durationMs } from "../core/duration.js";
import { InvalidInputError } from "../core/errors.js";
import { deploymentIdSchema } from "../core/ids.js";
import { renderTemplate } from "../core/policy/promql-template.js";
import type { Policy } from "../core/policy/schema.js";
import { findDeployment } from "../ledger/deployments.js";
import { createHttpClient, type HttpClient, HttpFailure } from "../metrics/http-client.js";
import { callApi } from "../metrics/prometheus.js";
import type { OperationContext } from "./context.js";
import { checkPolicyArgument } from "./load-policy.js";
import { cohortLabels, sourceSeries } from "./pull-metrics.js";
import type { StartDeploymentOutput } from "./start-deployment.js";

// Pre-flight for a policy's source: every query for every cohort over the last hour, with the
// number of series and a sample value, so a person sees which queries return nothing or too
// many series before a deployment holds on no_data. Read-only: it never touches the ledger.

const varsSchema = z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/), z.string().max(256));

export const sourceCheckInput = z.strictObject({
  policy: z
    .union([z.string().min(1), z.record(z.string(), z.unknown())])
    .describe("A policy file path or an inline policy object with a source section"),
  deployment_id: deploymentIdSchema
    .optional()
    .describe("What {{deployment}} renders to (default: the deployment being checked, or 'preflight')"),
  version: z.string().min(1).max(128).optional().describe("What {{version}} renders to"),
  vars: varsSchema.optional().describe("Values for {{vars.NAME}}"),
  at: z.string().optional().describe("End of the hour to check (ISO-8601; default now)"),
});
export type SourceCheckInput = z.infer<typeof sourceCheckInput>;

export const sourceCheckRow = z.object({
  series: z.string(),
  cohort: z.string(),
  query: z.string(),
  status: z.enum(["ok", "empty", "too_many_series", "error"]),
  series_count: z.number().int(),
  sample: z.number().nullable().describe("The newest value of the first series"),
  message: z.string(),
});

export const sourceCheckOutput = z.object({
  ok: z.boolean().describe("Every query answered with exactly one series (or one set of le buckets)"),
  url: z.string(),
  from: z.string(),
  to: z.string(),
  checks: z.array(sourceCheckRow),
  unreachable: z.boolean().describe("The source did not answer at all"),
  problems: z.array(z.string()),
});
export type SourceCheckOutput = z.infer<typeof sourceCheckOutput>;

const matrix = z.object({
  data: z.object({
    result: z.array(
      z.object({
        metric: z.record(z.string(), z.string()),
        values: z.array(z.tuple([z.number(), z.string()])),
      }),
    ),
  }),
});

export async function checkPolicySource(
  policy: Policy,
  values: {
    deployment_id: string;
    guessedDeployment?: boolean;
    version?: string | undefined;
    vars: Record<string, string>;
    at: number;
  },
  http?: HttpClient,
): Promise<SourceCheckOutput> {
  const source = policy.source;
  if (!source)
    throw new InvalidInputError(
      "policy.source",
      "the policy has no source section: its slices come from record_metrics / canary ingest, nothing to check",
    );
  const client = http ?? createHttpClient(source.prometheus);
  const step = Math.max(durationMs(policy.slice), 5000);
  const end = Math.floor(values.at / step) * step;
  const start = end - 3600_000;
  const checks: z.infer<typeof sourceCheckRow>[] = [];
  try {
    const jobs: Promise<void>[] = [];
    for (const { series, kind, query } of sourceSeries(policy)) {
      for (const [cohort, label] of cohortLabels(policy)) {
        const row = {
          series,
          cohort,
          query,
          status: "ok" as const,
          series_count: 0,
          sample: null,
          message: "",
        };
        let rendered: string;
        try {
          rendered = renderTemplate(query, {
            deployment: values.deployment_id,
            cohort: label,
            service: policy.service,
            version: values.version ?? null,
            slice: policy.slice,
            vars: values.vars,
          });
        } catch (error) {
          checks.push({
            ...row,
            status: "error",
            message: error instanceof Error ? error.message : String(error),
          });
          continue;
        }
        const entry: z.infer<typeof sourceCheckRow> = { ...row, query: rendered };
        checks.push(entry);
        jobs.push(
          (async () => {
            const answer = await callApi(() =>
              client.postForm("/api/v1/query_range", {
                query: rendered,
                start: String(start / 1000),
                end: String(end / 1000),
                step: String(step / 1000),
              }),
            );
            if (!answer.ok) {
              entry.status = "error";
              entry.message = answer.message;
              return;
            }
            const parsed = matrix.safeParse(answer.data);
            if (!parsed.success) {
              entry.status = "error";
              entry.message =
                "the answer is not a range vector; the query must be an instant vector expression";
              return;
            }
            const result = parsed.data.data.result;
            const groups = new Set(
              result.map((r) =>
                JSON.stringify(
                  Object.entries(r.metric)
                    .filter(([k]) => k !== "le" && k !== "__name__")
                    .sort(),
                ),
              ),
            );
            entry.series_count = kind === "histogram" ? groups.size : result.length;
            const first =
              kind === "histogram" ? (result.find((r) => r.metric.le === "+Inf") ?? result[0]) : result[0];
            const last = first?.values[first.values.length - 1];
            entry.sample = last ? Number(last[1]) : null;
            if (entry.sample !== null && !Number.isFinite(entry.sample)) entry.sample = null;
            if (result.length === 0) {
              entry.status = "empty";
              entry.message = `no series over the last hour for cohort ${label}: check the metric name and the labels (explore them with canary source explore)${values.guessedDeployment && query.includes("{{deployment}}") ? `; {{deployment}} rendered as ${JSON.stringify(values.deployment_id)}: give the deployment id to check` : ""}; an empty series holds every decision on no_data`;
            } else if (kind === "histogram" && result.some((r) => r.metric.le === undefined)) {
              entry.status = "error";
              entry.message =
                "a histogram series needs le buckets: sum by (le) (increase(x_bucket[{{slice}}]))";
            } else if (entry.series_count > 1) {
              entry.status = "too_many_series";
              entry.message = `${entry.series_count} series where one was expected: aggregate with sum(...)${kind === "histogram" ? " by (le)" : ""}`;
            } else entry.message = "one series";
          })(),
        );
      }
    }
    await Promise.all(jobs);
  } finally {
    if (!http) await client.close();
  }
  const problems = checks
    .filter((c) => c.status !== "ok")
    .map((c) => `${c.series} (${c.cohort}): ${c.status}: ${c.message}`);
  const unreachable =
    checks.length > 0 &&
    checks.every(
      (c) => c.status === "error" && /cannot connect|no answer within the timeout/.test(c.message),
    );
  return {
    ok: problems.length === 0,
    url: source.prometheus.url,
    from: new Date(start).toISOString(),
    to: new Date(end).toISOString(),
    checks,
    unreachable,
    problems,
  };
}

function atOf(at: string | undefined): number {
  if (at === undefined) return Date.now();
  const ms = Date.parse(at);
  if (!/^\d{4}-\d{2}-\d{2}T/.test(at) || Number.isNaN(ms))
    throw new InvalidInputError(
      "at",
      `expected an ISO-8601 time such as "2026-05-26T10:30:00Z", got ${JSON.stringify(at)}`,
    );
  return ms;
}

/** The pre-flight for a policy argument (file or inline object). */
export async function sourceCheck(
  ctx: Pick<OperationContext, "readPolicyFile">,
  input: SourceCheckInput,
): Promise<SourceCheckOutput> {
  const checked = checkPolicyArgument(ctx, input.policy);
  if (!checked.ok) {
    const first = checked.errors[0];
    throw new InvalidInputError(
      first && first.path !== "(file)" && first.path !== "(syntax)" ? `policy.${first.path}` : "policy",
      first?.message ?? "invalid policy",
    );
  }
  try {
    return await checkPolicySource(checked.policy, {
      deployment_id: input.deployment_id ?? "preflight",
      guessedDeployment: input.deployment_id === undefined,
      version: input.version,
      vars: input.vars ?? {},
      at: atOf(input.at),
    });
  } catch (error) {
    if (error instanceof HttpFailure) throw new InvalidInputError("policy.source.prometheus", error.message);
    throw error;
  }
}

/** Adds the same check to start_deployment's result, as a warning that never blocks the start. */
export async function withSourceCheck(
  ctx: OperationContext,
  input: { deployment_id: string; version?: string | undefined; vars?: Record<string, string> | undefined },
  started: StartDeploymentOutput,
): Promise<StartDeploymentOutput> {
  const d = findDeployment(ctx.ledger, started.deployment_id);
  const policy = d?.policy;
  if (!policy?.source) return started;
  try {
    const out = await checkPolicySource(policy, {
      deployment_id: input.deployment_id,
      version: input.version,
      vars: input.vars ?? {},
      at: Date.parse(started.started_at),
    });
    return { ...started, source_check: { ok: out.ok, problems: out.problems } };
  } catch (error) {
    return {
      ...started,
      source_check: { ok: false, problems: [error instanceof Error ? error.message : String(error)] },
    };
  }
}
