import { timingSafeEqual } from "node:crypto";
import { readFileSync } from "node:fs";
import { z } from "zod";
import { InvalidInputError } from "../core/errors.js";

// Bearer tokens map to the actor the audit log records. They come from a file or the
// environment, never from a command-line argument (which other users of the machine can read).

const tokensSchema = z.record(
  z.string().min(16, "tokens must be at least 16 characters"),
  z.string().min(1).max(256).describe("the actor this token acts as"),
);

export type TokenTable = ReadonlyArray<{ token: Buffer; actor: string }>;

export function parseTokens(json: string, source: string): TokenTable {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    throw new InvalidInputError(source, "is not JSON: expected an object mapping each token to its actor");
  }
  const parsed = tokensSchema.safeParse(value);
  if (!parsed.success)
    throw new InvalidInputError(
      source,
      parsed.error.issues[0]?.message ?? "expected an object mapping each token to its actor",
    );
  return Object.entries(parsed.data).map(([token, actor]) => ({ token: Buffer.from(token), actor }));
}

export function loadTokens(file: string | undefined, env: NodeJS.ProcessEnv): TokenTable {
  if (file) {
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch {
      throw new InvalidInputError("--tokens", `cannot read ${file}`);
    }
    return parseTokens(text, "--tokens");
  }
  return env.CANARY_TOKENS ? parseTokens(env.CANARY_TOKENS, "CANARY_TOKENS") : [];
}

/** The actor behind an Authorization header, compared in constant time; undefined when none matches. */
export function actorForAuthorization(tokens: TokenTable, header: string | undefined): string | undefined {
  const m = /^Bearer\s+(\S+)$/i.exec(header ?? "");
  if (!m?.[1]) return undefined;
  const given = Buffer.from(m[1]);
  let actor: string | undefined;
  for (const t of tokens) {
    if (t.token.length === given.length && timingSafeEqual(t.token, given)) actor = t.actor;
  }
  return actor;
}
