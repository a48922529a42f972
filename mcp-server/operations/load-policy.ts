import { parseDocument } from "yaml";
import { quote } from "../core/clip.js";
import { InvalidInputError } from "../core/errors.js";
import { type PolicyError, parsePolicyText, validatePolicyObject } from "../core/policy/parse.js";
import type { Policy } from "../core/policy/schema.js";
import type { OperationContext } from "./context.js";

export type PolicyArgument = string | Record<string, unknown>;

/**
 * Whether a file's text is a policy at all: a YAML/JSON mapping with `service` and `ladder` or
 * `metrics`. Only then do errors quote it (field names, YAML messages); anything else (a token
 * file, /etc/shadow, a binary) is described without a word of its content.
 */
function looksLikePolicy(text: string): boolean {
  try {
    const doc = parseDocument(text, { uniqueKeys: false });
    const top = doc.contents as { has?: (k: string) => boolean } | null;
    if (!top || typeof top.has !== "function") return false;
    return top.has("service") && (top.has("ladder") || top.has("metrics"));
  } catch {
    return false;
  }
}

function notAPolicy(path: string): PolicyError[] {
  return [
    {
      path: "(file)",
      message: `${JSON.stringify(path)} is not a canary policy (a YAML or JSON mapping with service, ladder and metrics); pass a policy file's path or an inline policy object`,
    },
  ];
}

/** A policy argument is a path to a YAML/JSON file or an inline object; both validate the same way. */
export function checkPolicyArgument(
  ctx: Pick<OperationContext, "readPolicyFile">,
  policy: PolicyArgument,
): { ok: true; policy: Policy; sha256: string } | { ok: false; errors: PolicyError[] } {
  if (typeof policy === "string") {
    let text: string;
    try {
      text = ctx.readPolicyFile(policy);
    } catch (error) {
      // Readers say why in words that reveal nothing about the path; anything else stays vague.
      const message =
        error instanceof InvalidInputError
          ? error.message
          : `cannot read policy file ${quote(policy)}; pass a readable path or an inline policy object`;
      return { ok: false, errors: [{ path: "(file)", message }] };
    }
    if (!looksLikePolicy(text)) return { ok: false, errors: notAPolicy(policy) };
    try {
      return parsePolicyText(text);
    } catch {
      // e.g. an alias that cannot be resolved; its message would quote the file.
      return { ok: false, errors: notAPolicy(policy) };
    }
  }
  return validatePolicyObject(policy);
}

export function loadPolicyArgument(
  ctx: Pick<OperationContext, "readPolicyFile">,
  policy: PolicyArgument,
): { policy: Policy; sha256: string } {
  const checked = checkPolicyArgument(ctx, policy);
  if (!checked.ok) {
    const first = checked.errors[0];
    const more =
      checked.errors.length > 1
        ? ` (and ${checked.errors.length - 1} more; canary policy validate FILE or the validate_policy tool lists all)`
        : "";
    const inFile = first?.path === "(file)" || first?.path === "(syntax)";
    throw new InvalidInputError(
      inFile || !first ? "policy" : `policy.${first.path}`,
      `${first?.line ? `line ${first.line}: ` : ""}${first?.message ?? "invalid policy"}${more}`,
    );
  }
  return { policy: checked.policy, sha256: checked.sha256 };
}
