import type { ParseArgsConfig } from "node:util";

export type OptionSpec = NonNullable<ParseArgsConfig["options"]>;

export interface ParsedArgs {
  values: Record<string, string | boolean | (string | boolean)[] | undefined>;
  positionals: string[];
}

/** One `canary` command: its help, its flags, and a run that returns the exit code. */
export interface Command {
  name: string;
  usage: string;
  options: OptionSpec;
  positionals?: { min: number; max: number };
  run(args: ParsedArgs): Promise<number>;
}

/** Flags every command that touches the ledger takes. */
export const LEDGER_OPTIONS: OptionSpec = {
  ledger: { type: "string" },
  server: { type: "string" },
  clock: { type: "string" },
  json: { type: "boolean" },
};

export const COMMON_HELP = `Common options:
  --ledger PATH   SQLite ledger (default .canary/ledger.db; env CANARY_LEDGER)
  --server URL    run against a shared canary serve instead (env CANARY_SERVER; token CANARY_TOKEN)
  --clock manual  drive time with --at (simulations, replays); env CANARY_CLOCK
  --json          machine-readable output on stdout
  --help          this help
Who acts comes from CANARY_ACTOR (else the OS user): a name recorded in the audit trail, which
anyone can set on the CLI; a shared canary serve takes it from each caller's token instead.
A command waits up to CANARY_BUSY_TIMEOUT_MS (default 10000) for another writer's lock, then
exits 5 (nothing written, safe to retry).`;

export function str(args: ParsedArgs, name: string): string | undefined {
  const v = args.values[name];
  return typeof v === "string" ? v : undefined;
}

export function flag(args: ParsedArgs, name: string): boolean {
  return args.values[name] === true;
}
