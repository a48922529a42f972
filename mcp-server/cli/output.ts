import { classifyError, type ErrorClass } from "../core/errors.js";

/** Exit codes (docs/cli.md). */
export const EXIT = {
  ok: 0,
  internal: 1,
  badInput: 2,
  refused: 3,
  integrity: 4,
  busy: 5,
  hold: 10,
  rollback: 20,
} as const;

export class UsageError extends Error {}

export function useColor(stream: NodeJS.WriteStream = process.stdout): boolean {
  return Boolean(stream.isTTY) && !process.env.NO_COLOR && process.env.TERM !== "dumb";
}

const codes = { red: 31, green: 32, yellow: 33, dim: 2, bold: 1 } as const;
export function paint(color: keyof typeof codes, text: string): string {
  return useColor() ? `\u001b[${codes[color]}m${text}\u001b[0m` : text;
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** A fixed-width table for people. */
export function table(headers: string[], rows: (string | number | null | undefined)[][]): string {
  const cells = rows.map((r) => r.map((c) => (c === null || c === undefined ? "-" : String(c))));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => r[i]?.length ?? 0)));
  const line = (r: string[]) =>
    r
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join("  ")
      .trimEnd();
  return [line(headers), line(widths.map((w) => "-".repeat(w))), ...cells.map(line)].join("\n");
}

const EXIT_OF: Record<ErrorClass["kind"], number> = {
  invalid_input: EXIT.badInput,
  not_found: EXIT.badInput,
  refused: EXIT.refused,
  busy: EXIT.busy,
  integrity: EXIT.integrity,
  internal: EXIT.internal,
};

/** Maps an error to its exit code and prints it (as JSON with --json). */
export function reportError(error: unknown, json: boolean): number {
  const c: ErrorClass =
    error instanceof UsageError ? { kind: "invalid_input", message: error.message } : classifyError(error);
  const kind = error instanceof UsageError ? "usage" : c.kind === "internal" ? "internal_error" : c.kind;
  const message =
    c.kind === "refused"
      ? `refused (${c.field}): ${c.message}`
      : (c.kind === "invalid_input" || c.kind === "not_found") &&
          c.field &&
          !(error instanceof UsageError) &&
          !c.message.startsWith(`${c.field}:`)
        ? `${c.field}: ${c.message}`
        : c.message;
  if (json) {
    process.stdout.write(
      `${JSON.stringify({ error: { kind, ...(c.field ? { field: c.field } : {}), message } }, null, 2)}\n`,
    );
  }
  process.stderr.write(`canary: ${message}\n`);
  return EXIT_OF[c.kind];
}
