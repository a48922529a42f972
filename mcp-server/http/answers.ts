import type { IncomingMessage } from "node:http";
import { type ErrorClass, InvalidInputError } from "../core/errors.js";

// What every HTTP route shares: how a JSON body is read, and which status an error class gets.

/** The JSON body (undefined when empty), at most `limit` bytes; a bad body is an InvalidInputError on `body`. */
export async function readJsonBody(req: IncomingMessage, limit: number): Promise<unknown> {
  const declared = Number(req.headers["content-length"] ?? 0);
  if (declared > limit) throw new InvalidInputError("body", `request body over ${limit} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new InvalidInputError("body", `request body over ${limit} bytes`);
    chunks.push(chunk as Buffer);
  }
  if (size === 0) return undefined;
  try {
    return JSON.parse(Buffer.concat(chunks).toString("utf8"));
  } catch {
    throw new InvalidInputError("body", "is not JSON");
  }
}

/** The status and headers an error class answers with (the classification decides, this only maps). */
export function httpStatusOf(c: ErrorClass): [number, Record<string, string>] {
  if (c.kind === "not_found") return [404, {}];
  if (c.kind === "invalid_input")
    return [c.field === "body" && /over \d+ bytes/.test(c.message) ? 413 : 400, {}];
  if (c.kind === "refused") return [c.field === "role" ? 403 : 409, {}];
  if (c.kind === "busy") return [503, { "retry-after": "1" }];
  return [500, {}];
}
