import { LineCounter, parseDocument } from "yaml";
import type { z } from "zod";
import { canonicalHash } from "../canonical-json.js";
import { humanizeIssues } from "./humanize.js";
import { type Policy, policySchema } from "./schema.js";

export interface PolicyError {
  path: string;
  message: string;
  line?: number;
}

export type PolicyParse = { ok: true; policy: Policy; sha256: string } | { ok: false; errors: PolicyError[] };

/** JSON-pointer-like path for people: metrics[0].tolerance.relative */
export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  let out = "";
  for (const p of path) out += typeof p === "number" ? `[${p}]` : out ? `.${String(p)}` : String(p);
  return out || "(policy)";
}

function issuesToErrors(
  issues: z.core.$ZodIssue[],
  lineOf?: (path: PropertyKey[]) => number | undefined,
): PolicyError[] {
  return humanizeIssues(issues).map(({ path, message }) => {
    const line = lineOf?.(path);
    return line === undefined
      ? { path: formatPath(path), message }
      : { path: formatPath(path), message, line };
  });
}

/** Validates an already-parsed policy object. */
export function validatePolicyObject(
  value: unknown,
  lineOf?: (path: PropertyKey[]) => number | undefined,
): PolicyParse {
  const parsed = policySchema.safeParse(value, { reportInput: true });
  if (!parsed.success) return { ok: false, errors: issuesToErrors(parsed.error.issues, lineOf) };
  return { ok: true, policy: parsed.data, sha256: policySha256(parsed.data) };
}

/** Parses policy text (YAML, which includes JSON) and validates it; errors carry their line. */
export function parsePolicyText(text: string): PolicyParse {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    return {
      ok: false,
      errors: doc.errors.map((e) => ({
        path: "(syntax)",
        message: e.message.split("\n")[0] ?? e.message,
        line: lineCounter.linePos(e.pos[0]).line,
      })),
    };
  }
  const lineOf = (path: PropertyKey[]): number | undefined => {
    // Walk up until a node exists (a missing field is reported at its parent).
    for (let n = path.length; n >= 0; n--) {
      const node = doc.getIn(path.slice(0, n) as (string | number)[], true) as
        | { range?: [number, number, number] }
        | undefined;
      const at = node && typeof node === "object" && node.range ? node.range[0] : undefined;
      if (at !== undefined) return lineCounter.linePos(at).line;
    }
    return undefined;
  };
  return validatePolicyObject(doc.toJS({ maxAliasCount: 50 }), lineOf);
}

/** The policy's identity: SHA-256 of its canonical JSON after defaults are filled in. */
export function policySha256(policy: Policy): string {
  return canonicalHash(policy);
}
