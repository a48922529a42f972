import { quote } from "../core/clip.js";
import { InvalidInputError } from "../core/errors.js";
import { type PolicyError, parsePolicyText, validatePolicyObject } from "../core/policy/parse.js";
import type { Policy } from "../core/policy/schema.js";
import type { OperationContext } from "./context.js";

export type PolicyArgument = string | Record<string, unknown>;

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
      const why =
        error instanceof Error && "code" in error
          ? String((error as NodeJS.ErrnoException).code)
          : "unreadable";
      return {
        ok: false,
        errors: [
          {
            path: "(file)",
            message: `cannot read policy file ${quote(policy)} (${why}); pass a readable path or an inline policy object`,
          },
        ],
      };
    }
    return parsePolicyText(text);
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
