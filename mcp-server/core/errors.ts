// Two kinds of "no" that every transport maps to its own error shape (an MCP `isError` result,
// CLI exit code 2 or 3, an HTTP 400 or 409): bad input is the caller's to fix, a refusal is a rule
// of the product that the current state or permissions do not allow.

/** The input is malformed or out of range; `field` names what to fix (e.g. `unit_id`, `slices[3].t`). */
export class InvalidInputError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
    this.name = "InvalidInputError";
  }
}

/** The input is well formed but a rule forbids the action now; `rule` names the rule (e.g. `fresh_decision`). */
export class RefusedError extends Error {
  constructor(
    readonly rule: string,
    message: string,
  ) {
    super(message);
    this.name = "RefusedError";
  }
}

/** The named thing does not exist (an unknown deployment or decision id): bad input, and HTTP 404. */
export class NotFoundError extends InvalidInputError {
  constructor(field: string, message: string) {
    super(field, message);
    this.name = "NotFoundError";
  }
}

/**
 * Another process holds the ledger's write lock and it could not be had in time. Nothing was
 * written; the same call is safe to retry (CLI exit 5, HTTP 503, MCP isError saying so).
 */
export class BusyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "BusyError";
  }
}

/**
 * The ledger file is damaged or is not a ledger (corruption, a foreign or empty file, an edited
 * stored policy): CLI exit 4. The message says what to do.
 */
export class IntegrityError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "IntegrityError";
  }
}

/** What went wrong, in the terms every transport maps from (exit code, HTTP status, MCP text). */
export interface ErrorClass {
  kind: "invalid_input" | "not_found" | "refused" | "busy" | "integrity" | "internal";
  /** The field to fix (bad input) or the rule that refused. */
  field?: string;
  /** A sentence for people, naming the field or rule and what to do. */
  message: string;
}

interface IssueLike {
  path: PropertyKey[];
  message: string;
}

function isValidationError(error: unknown): error is Error & { issues: IssueLike[] } {
  return (
    error instanceof Error &&
    error.name === "ZodError" &&
    Array.isArray((error as { issues?: unknown }).issues)
  );
}

/** The one place that decides what kind of failure an error is; transports only format it. */
export function classifyError(error: unknown): ErrorClass {
  if (error instanceof NotFoundError)
    return { kind: "not_found", field: error.field, message: error.message };
  if (error instanceof InvalidInputError)
    return { kind: "invalid_input", field: error.field, message: error.message };
  if (error instanceof RefusedError) return { kind: "refused", field: error.rule, message: error.message };
  if (error instanceof BusyError) return { kind: "busy", message: error.message };
  if (error instanceof IntegrityError) return { kind: "integrity", message: error.message };
  if (isValidationError(error)) {
    const first = error.issues[0];
    return {
      kind: "invalid_input",
      ...(first ? { field: first.path.map(String).join(".") || "(input)" } : {}),
      message: error.issues
        .map((i) => `${i.path.map(String).join(".") || "(input)"}: ${i.message}`)
        .join("; "),
    };
  }
  return { kind: "internal", message: error instanceof Error ? error.message : String(error) };
}
