import { readFileSync } from "node:fs";
import { userInfo } from "node:os";
import { resolve } from "node:path";
import { createAssigner } from "../cohort-assigner.js";
import { quote } from "../core/clip.js";
import { InvalidInputError } from "../core/errors.js";
import { openLedger } from "../ledger/open.js";
import { manualClock, type OperationContext, realClock } from "../operations/context.js";

export interface CommonFlags {
  ledger?: string;
  clock?: string;
  /** Commands that only read open the ledger read-only: they never create, migrate or lock it. */
  access?: "read" | "write";
}

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

/** Opens the ledger and builds the context every operation runs in. Close the ledger when done. */
export async function openContext(
  flags: CommonFlags,
  env: NodeJS.ProcessEnv = process.env,
): Promise<OperationContext> {
  const mode = clockModeFrom(flags, env);
  const ledger = openLedger(ledgerPath(flags, env), { clockMode: mode, access: flags.access ?? "write" });
  const ctx: OperationContext = {
    ledger,
    clock: mode === "manual" ? manualClock : realClock,
    actor: actorFromEnv(env),
    assigner: await createAssigner(),
    readPolicyFile: (path) => readFileSync(resolve(path), "utf8"),
  };
  if (env.CANARY_AUDIT_HMAC_KEY) ctx.auditHmacKey = env.CANARY_AUDIT_HMAC_KEY;
  return ctx;
}
