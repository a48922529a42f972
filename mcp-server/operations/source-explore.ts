import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { InvalidInputError } from "../core/errors.js";
import { escapePromqlString } from "../core/policy/promql-template.js";
import { prometheusSourceSchema } from "../core/policy/schema.js";
import { createHttpClient, type HttpClient } from "../metrics/http-client.js";
import { callApi } from "../metrics/prometheus.js";
import type { OperationContext } from "./context.js";

// Discovery for writing a policy: which metrics, labels and label values exist for a service in
// the Prometheus a draft policy names, so queries are proposed from what really exists. Read-only
// and bounded: the last hour, a few label guesses, capped lists.

export const sourceExploreInput = z.strictObject({
  policy: z
    .union([z.string().min(1), z.record(z.string(), z.unknown())])
    .optional()
    .describe("A draft policy (file path or object); only its service and source.prometheus are read"),
  url: z.string().url().optional().describe("The Prometheus base URL, when there is no draft policy yet"),
  service: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/)
    .optional()
    .describe("Service name to look for (default: the policy's service)"),
  limit: z.number().int().min(1).max(200).default(50).describe("At most this many metrics and label values"),
  at: z.string().optional().describe("End of the hour to look at (ISO-8601; default now)"),
});
export type SourceExploreInput = z.input<typeof sourceExploreInput>;

export const sourceExploreOutput = z.object({
  url: z.string(),
  service: z.string(),
  matched_by: z.array(z.string()).describe("Labels whose value contains the service name"),
  metrics: z.array(
    z.object({
      name: z.string(),
      type: z.string().nullable(),
      help: z.string().nullable(),
      series: z.number().int(),
      labels: z.array(z.string()),
    }),
  ),
  label_values: z.record(z.string(), z.array(z.string())),
  cohort_label_candidates: z
    .array(z.string())
    .describe("Labels that may tell canary from control (version, workload, track...)"),
  truncated: z.boolean(),
});
export type SourceExploreOutput = z.infer<typeof sourceExploreOutput>;

const SERVICE_LABELS = [
  "service",
  "app",
  "job",
  "app_kubernetes_io_name",
  "workload",
  "destination_workload",
  "destination_service_name",
  "deployment",
  "container",
];
const COHORT_HINTS =
  /^(cohort|version|track|canary|workload|destination_workload|destination_version|rollouts_pod_template_hash|pod_template_hash|deployment|variant|revision)$/;

const seriesAnswer = z.object({ data: z.array(z.record(z.string(), z.string())) });
const metadataAnswer = z.object({
  data: z.record(z.string(), z.array(z.object({ type: z.string().optional(), help: z.string().optional() }))),
});

/** A literal inside a regex matcher's double-quoted PromQL string: regex-escaped, then string-escaped. */
function reEscape(s: string): string {
  return escapePromqlString(s.replace(/[\\.+*?()|[\]{}^$]/g, "\\$&"), '"');
}

function draftSource(
  ctx: Pick<OperationContext, "readPolicyFile">,
  input: z.infer<typeof sourceExploreInput>,
): { url: string; prom: z.infer<typeof prometheusSourceSchema>; service: string } {
  let draft: Record<string, unknown> = {};
  if (typeof input.policy === "string") {
    let text: string;
    try {
      text = ctx.readPolicyFile(input.policy);
    } catch {
      throw new InvalidInputError(
        "policy",
        `cannot read ${JSON.stringify(input.policy)}; pass a readable draft policy file`,
      );
    }
    // A draft need not validate yet: only its service and source.prometheus are read.
    try {
      const doc: unknown = parseYaml(text);
      if (doc && typeof doc === "object") draft = doc as Record<string, unknown>;
    } catch {
      throw new InvalidInputError("policy", "the draft policy is not valid YAML or JSON");
    }
  } else if (input.policy) draft = input.policy;
  const source = (draft.source as { prometheus?: unknown } | undefined)?.prometheus;
  const base = source ?? (input.url ? { url: input.url } : undefined);
  if (!base)
    throw new InvalidInputError(
      "policy.source.prometheus",
      "name the Prometheus: a draft policy with source.prometheus.url, or url",
    );
  const prom = prometheusSourceSchema.safeParse(base);
  if (!prom.success)
    throw new InvalidInputError(
      "policy.source.prometheus",
      prom.error.issues.map((i) => `${i.path.join(".") || "(source)"}: ${i.message}`).join("; "),
    );
  const service = input.service ?? (typeof draft.service === "string" ? draft.service : undefined);
  if (!service)
    throw new InvalidInputError("service", "name the service to look for (service, or the draft's service)");
  return { url: prom.data.url, prom: prom.data, service };
}

async function getJson(http: HttpClient, path: string, params: [string, string][]): Promise<unknown> {
  const answer = await callApi(() => http.get(path, params));
  if (!answer.ok) throw new InvalidInputError("policy.source.prometheus", `${path}: ${answer.message}`);
  return answer.data;
}

export async function sourceExplore(
  ctx: Pick<OperationContext, "readPolicyFile">,
  rawInput: SourceExploreInput,
): Promise<SourceExploreOutput> {
  const input = sourceExploreInput.parse(rawInput);
  const { url, prom, service } = draftSource(ctx, input);
  const end = input.at ? Date.parse(input.at) : Date.now();
  if (Number.isNaN(end)) throw new InvalidInputError("at", "expected an ISO-8601 time");
  const window: [string, string][] = [
    ["start", String((end - 3600_000) / 1000)],
    ["end", String(end / 1000)],
  ];
  const http = createHttpClient(prom, { attempts: 1 });
  try {
    const matchedBy: string[] = [];
    const series: Record<string, string>[] = [];
    let truncated = false;
    const cap = 2000;
    for (const label of SERVICE_LABELS) {
      const found = seriesAnswer.parse(
        await getJson(http, "/api/v1/series", [
          ["match[]", `{${label}=~".*${reEscape(service)}.*"}`],
          ...window,
        ]),
      ).data;
      if (found.length === 0) continue;
      matchedBy.push(label);
      for (const s of found) {
        if (series.length >= cap) {
          truncated = true;
          break;
        }
        series.push(s);
      }
    }
    const byName = new Map<string, { series: number; labels: Set<string> }>();
    for (const s of series) {
      const name = s.__name__ ?? "";
      const m = byName.get(name) ?? { series: 0, labels: new Set<string>() };
      m.series++;
      for (const k of Object.keys(s)) if (k !== "__name__") m.labels.add(k);
      byName.set(name, m);
    }
    const names = [...byName.keys()].sort();
    if (names.length > input.limit) truncated = true;
    const kept = names.slice(0, input.limit);
    let metadata: z.infer<typeof metadataAnswer>["data"] = {};
    try {
      metadata = metadataAnswer.parse(await getJson(http, "/api/v1/metadata", [["limit", "5000"]])).data;
    } catch {
      // Thanos and some proxies lack metadata: names and labels still help.
    }
    const family = (n: string) => metadata[n] ?? metadata[n.replace(/_(bucket|sum|count|total)$/, "")];
    const labelNames = [...new Set(series.flatMap((s) => Object.keys(s)))]
      .filter((k) => k !== "__name__")
      .sort();
    const values: Record<string, string[]> = {};
    for (const l of labelNames) {
      const all = [...new Set(series.map((s) => s[l]).filter((v): v is string => v !== undefined))].sort();
      if (all.length > input.limit) truncated = true;
      values[l] = all.slice(0, input.limit);
    }
    return {
      url,
      service,
      matched_by: matchedBy,
      metrics: kept.map((name) => {
        const m = byName.get(name)!;
        const meta = family(name)?.[0];
        return {
          name,
          type: meta?.type ?? null,
          help: meta?.help ?? null,
          series: m.series,
          labels: [...m.labels].sort(),
        };
      }),
      label_values: values,
      cohort_label_candidates: labelNames.filter((l) => COHORT_HINTS.test(l) && (values[l]?.length ?? 0) > 1),
      truncated,
    };
  } finally {
    await http.close();
  }
}
