import { userInfo } from "node:os";
import { resolve } from "node:path";
import { quote } from "../core/clip.js";
import type { CohortAssigner } from "../core/cohort/index.js";
import { InvalidInputError } from "../core/errors.js";
import { openLedger } from "../ledger/open.js";
import { manualClock, type OperationContext, realClock } from "../operations/context.js";
import { readUserPolicyFileSync } from "../operations/policy-files.js";

export interface CommonFlags {
  ledger?: string;
  clock?: string;
  /** Commands that only read open the ledger read-only: they never create, migrate or lock it. */
  access?: "read" | "write";
  /**
   * Long-lived servers wait this little for the write lock (a synchronous wait inside SQLite) and
   * retry asynchronously instead (whenLedgerFree); one-shot commands keep the long default.
   */
  busyTimeoutMs?: number;
  /**
   * False for commands whose operation never assigns a unit (status): the cohort assigner is a
   * WebAssembly module and the population schema, a good share of a short command's start-up.
   */
  cohorts?: boolean;
}

function unloaded(): never {
  throw new Error("this command opened its context without the cohort assigner (cohorts: false)");
}

/** Stands in for the assigner in a context opened with `cohorts: false`; any use is a bug. */
const NO_COHORTS: CohortAssigner = { seed: unloaded, bucket: unloaded, assign: unloaded };

export function ledgerPath(flags: CommonFlags, env: NodeJS.ProcessEnv = process.env): string {
  return resolve(flags.ledger ?? env.CANARY_LEDGER ?? ".canary/ledger.db");
}

/** Who is acting: CANARY_ACTOR, else the OS user. Never a command-line argument. */
export function actorFromEnv(env: NodeJS.ProcessEnv = process.env): string {
  if (env.CANARY_ACTOR?.trim()) return env.CANARY_ACTOR.trim();
  try {
    return `os:${userInfo().username}`;
  } catch {
    return "os:unknown";
  }
}

export function clockModeFrom(flags: CommonFlags, env: NodeJS.ProcessEnv = process.env): "real" | "manual" {
  const mode = flags.clock ?? env.CANARY_CLOCK ?? "real";
  if (mode !== "real" && mode !== "manual")
    throw new InvalidInputError("--clock", `expected "real" or "manual", got ${quote(mode)}`);
  return mode;
}

/** How long a command waits for another writer's lock (CANARY_BUSY_TIMEOUT_MS, default 10 s) before exit 5. */
export function busyTimeoutFrom(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.CANARY_BUSY_TIMEOUT_MS;
  if (raw === undefined || raw === "") return 10_000;
  const ms = Number(raw);
  if (!Number.isInteger(ms) || ms < 0 || ms > 600_000)
    throw new InvalidInputError(
      "CANARY_BUSY_TIMEOUT_MS",
      `expected a whole number of milliseconds from 0 to 600000, got ${JSON.stringify(raw)}`,
    );
  return ms;
}

/** Opens the ledger and builds the context every operation runs in. Close the ledger when done. */
export async function openContext(
  flags: CommonFlags,
  env: NodeJS.ProcessEnv = process.env,
): Promise<OperationContext> {
  const mode = clockModeFrom(flags, env);
  const ledger = openLedger(ledgerPath(flags, env), {
    clockMode: mode,
    access: flags.access ?? "write",
    busyTimeoutMs: flags.busyTimeoutMs ?? busyTimeoutFrom(env),
  });
  const ctx: OperationContext = {
    ledger,
    clock: mode === "manual" ? manualClock : realClock,
    actor: actorFromEnv(env),
    assigner:
      flags.cohorts === false ? NO_COHORTS : await (await import("../cohort-assigner.js")).createAssigner(),
    // Size-capped, regular files only; servers replace this per call with their own file rules.
    readPolicyFile: (path) => readUserPolicyFileSync(path),
  };
  if (env.CANARY_AUDIT_HMAC_KEY) ctx.auditHmacKey = env.CANARY_AUDIT_HMAC_KEY;
  return ctx;
}
