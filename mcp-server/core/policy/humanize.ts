import type { z } from "zod";
import { quote } from "../clip.js";
import { nearest } from "../did-you-mean.js";
import { policySchema } from "./schema.js";

// zod's issues turned into one sentence per problem for the person who wrote the policy: what is
// wrong, and the fix ("missing field service", "did you mean tolerance?"), never a raw
// "expected object, received number" nor a 4 000-character echo of the input.

interface SchemaDef {
  type: string;
  shape?: Record<string, { _zod: { def: SchemaDef } }>;
  element?: { _zod: { def: SchemaDef } };
  innerType?: { _zod: { def: SchemaDef } };
  in?: { _zod: { def: SchemaDef } };
  options?: { _zod: { def: SchemaDef } }[];
}

function defOf(schema: unknown): SchemaDef {
  return (schema as { _zod: { def: SchemaDef } })._zod.def;
}

/** The object schemas that may sit at `path` (a metric is one of four kinds, so several). */
function objectsAt(path: readonly PropertyKey[]): SchemaDef[] {
  let at: SchemaDef[] = [defOf(policySchema)];
  for (const key of path) {
    at = at.flatMap(unwrapAll).flatMap((d) => {
      if (d.type === "array" && typeof key === "number" && d.element) return [defOf(d.element)];
      const field = d.type === "object" && typeof key === "string" ? d.shape?.[key] : undefined;
      return field ? [defOf(field)] : [];
    });
  }
  return at.flatMap(unwrapAll).filter((d) => d.type === "object");
}

function unwrapAll(d: SchemaDef): SchemaDef[] {
  if (d.innerType) return unwrapAll(defOf(d.innerType));
  if (d.type === "pipe" && d.in) return unwrapAll(defOf(d.in));
  if (d.type === "union" && d.options) return d.options.flatMap((o) => unwrapAll(defOf(o)));
  return [d];
}

/** The field names the schema knows at `path`. */
export function knownFields(path: readonly PropertyKey[]): string[] {
  return [...new Set(objectsAt(path).flatMap((d) => Object.keys(d.shape ?? {})))].sort();
}

const METRIC_TYPES = ["ratio", "histogram", "mean", "throughput"];
const DURATION_FIELDS = new Set(["slice", "check_every", "warmup", "window", "after", "timeout"]);

/** What a field should look like, for "expected ..." messages. */
function shapeHint(key: PropertyKey | undefined): string | undefined {
  switch (key) {
    case "tolerance":
    case "margin":
      return "an object such as { relative: 0.1 } (a fraction: 0.1 is +10%) or { absolute: 50 } (in the metric's unit)";
    case "catastrophe":
      return "an object such as { limit: 0.05, min_count: 200 }";
    case "max_hold":
      return "an object such as { after: 2h, action: rollback }";
    case "ladder":
      return "a list of rungs such as [{ percent: 1, window: 30m }, { percent: 100 }]";
    case "service":
      return "the service's name, such as checkout";
    case "metrics":
      return "a list of metrics, each with name, type, bad and tolerance";
    default:
      return typeof key === "string" && DURATION_FIELDS.has(key)
        ? 'a duration with its unit, such as "30s", "5m" or "1h30m" (a bare number has no unit)'
        : undefined;
  }
}

function received(input: unknown): string {
  if (input === null) return "an empty value";
  if (Array.isArray(input)) return "a list";
  if (typeof input === "object") return "an object";
  return `${typeof input} ${quote(input)}`;
}

export interface HumanIssue {
  path: PropertyKey[];
  message: string;
}

/** One message per problem, in the order zod found them. */
export function humanizeIssues(issues: readonly z.core.$ZodIssue[]): HumanIssue[] {
  const out: HumanIssue[] = [];
  // A misspelt field shows up twice (unknown `tolerence`, missing `tolerance`): say it once.
  const suggested = new Set<string>();
  for (const issue of issues) {
    if (issue.code !== "unrecognized_keys") continue;
    const path = issue.path as PropertyKey[];
    const known = knownFields(path);
    for (const key of issue.keys) {
      const guess = nearest(key, known);
      if (guess) suggested.add(JSON.stringify([...path, guess]));
    }
  }
  const seen = new Set<string>();
  for (const issue of issues) {
    const path = issue.path as PropertyKey[];
    if (issue.code === "unrecognized_keys") {
      const known = knownFields(path);
      for (const key of issue.keys) {
        const guess = nearest(key, known);
        out.push({
          path: [...path, key],
          message: guess
            ? `unknown field ${quote(key)}: did you mean ${guess}?`
            : `unknown field ${quote(key)}: remove it${known.length ? ` (fields here: ${known.join(", ")})` : ""}`,
        });
      }
      continue;
    }
    const id = JSON.stringify(path);
    if (seen.has(id) || suggested.has(id)) continue;
    seen.add(id);
    out.push({ path, message: messageOf(issue) });
  }
  return out;
}

function messageOf(issue: z.core.$ZodIssue): string {
  const path = issue.path as PropertyKey[];
  const key = path[path.length - 1];
  const input = (issue as { input?: unknown }).input;
  if (issue.code === "invalid_type") {
    if (path.length === 0)
      return input === null || input === undefined
        ? "the policy is empty: it needs at least service, ladder and metrics (docs/policy.md lists every field)"
        : `expected the policy to be a mapping of fields, received ${received(input)}`;
    const hint = shapeHint(key) ?? `a ${issue.expected}`;
    if (input === undefined) return `missing field ${String(key)}: add it (${hint})`;
    return `expected ${hint}, received ${received(input)}`;
  }
  if (issue.code === "invalid_union" && key === "type") {
    const given = input && typeof input === "object" ? (input as { type?: unknown }).type : input;
    if (given === undefined) return "missing field type: add it (ratio, histogram, mean or throughput)";
    const guess = typeof given === "string" ? nearest(given, METRIC_TYPES) : undefined;
    return `unknown metric type ${quote(given)}: ${guess ? `did you mean ${guess}? ` : ""}use ratio, histogram, mean or throughput`;
  }
  if (typeof key === "string" && DURATION_FIELDS.has(key) && typeof input === "string")
    return `expected a duration such as "30s", "15m", "1h" or "1h30m", received ${quote(input)}`;
  if (issue.code === "invalid_value") {
    const options = issue.values.map(String);
    if (input === undefined) return `missing field ${String(key)}: add it (one of ${options.join(", ")})`;
    const guess = typeof input === "string" ? nearest(input, options) : undefined;
    return `${quote(input)} is not allowed here: ${guess ? `did you mean ${guess}? ` : ""}use one of ${options.join(", ")}`;
  }
  return issue.message.replace(/^Invalid input: /, "");
}
