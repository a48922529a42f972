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
