import { InvalidInputError } from "../core/errors.js";

/** A request target split into decoded path segments and its query, never throwing past the caller. */
export interface RequestTarget {
  segments: string[];
  query: URLSearchParams;
}

/**
 * Parses the origin-form target (`/path?query`) of a request. Anything else (absolute form,
 * `*`, bad percent-encoding) is bad input, an HTTP 400, never an exception that reaches the server.
 */
export function parseTarget(raw: string | undefined): RequestTarget {
  if (!raw?.startsWith("/") || raw.startsWith("//"))
    throw new InvalidInputError("request", "the request target must be a path starting with a single /");
  const q = raw.indexOf("?");
  const path = q === -1 ? raw : raw.slice(0, q);
  let segments: string[];
  try {
    segments = path.split("/").filter(Boolean).map(decodeURIComponent);
  } catch {
    throw new InvalidInputError(
      "request",
      "the path has a malformed percent-encoding (such as % not followed by two hex digits)",
    );
  }
  // URLSearchParams never throws: malformed escapes stay as written.
  return { segments, query: new URLSearchParams(q === -1 ? "" : raw.slice(q + 1)) };
}
