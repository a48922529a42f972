import { timingSafeEqual } from "node:crypto";
import { readFileSync } from "node:fs";
import { z } from "zod";
import { InvalidInputError } from "../core/errors.js";

// Bearer tokens map to the actor the audit log records and the role it may play. They come from a
// file or the environment, never from a command-line argument (which other users can read).

export const roleSchema = z.enum(["viewer", "operator"]);
/** `viewer` reads (read-only tools and routes); `operator` also acts (every tool). */
export type Role = z.infer<typeof roleSchema>;

const actorSchema = z.string().min(1).max(256).describe("the actor this token acts as");

const tokensSchema = z.record(
  z.string().min(16, "tokens must be at least 16 characters"),
  z.union([actorSchema, z.strictObject({ actor: actorSchema, role: roleSchema })]),
);

export interface TokenEntry {
  token: Buffer;
  actor: string;
  role: Role;
}

export type TokenTable = ReadonlyArray<TokenEntry>;

export function parseTokens(json: string, source: string): TokenTable {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    throw new InvalidInputError(
      source,
      'is not JSON: expected an object mapping each token to its actor or to {"actor": "...", "role": "viewer" | "operator"}',
    );
  }
  const parsed = tokensSchema.safeParse(value);
  // The message names the rule, never a token (the key is the secret).
  if (!parsed.success)
    throw new InvalidInputError(
      source,
      `${parsed.error.issues[0]?.message ?? "invalid"}: expected an object mapping each token (16+ characters) to its actor or to {"actor": "...", "role": "viewer" | "operator"}`,
    );
  return Object.entries(parsed.data).map(([token, v]) =>
    typeof v === "string"
      ? { token: Buffer.from(token), actor: v, role: "operator" as const }
      : { token: Buffer.from(token), actor: v.actor, role: v.role },
  );
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

/** The token entry behind an Authorization header, compared in constant time; undefined when none matches. */
export function tokenForAuthorization(
  tokens: TokenTable,
  header: string | undefined,
): Omit<TokenEntry, "token"> | undefined {
  const m = /^Bearer\s+(\S+)$/i.exec(header ?? "");
  if (!m?.[1]) return undefined;
  const given = Buffer.from(m[1]);
  let found: TokenEntry | undefined;
  for (const t of tokens) {
    if (t.token.length === given.length && timingSafeEqual(t.token, given)) found = t;
  }
  return found ? { actor: found.actor, role: found.role } : undefined;
}
