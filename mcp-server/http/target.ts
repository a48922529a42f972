import { InvalidInputError } from "../core/errors.js";

/** A request target split into decoded path segments and its query. */
export interface RequestTarget {
  segments: string[];
  query: URLSearchParams;
}

const NO_QUERY = new URLSearchParams();

/**
 * Parses the origin-form target (`/path?query`) of a request. Anything else (absolute form,
 * `*`, bad percent-encoding) is bad input, an HTTP 400, never an exception that reaches the server.
 */
export function parseTarget(raw: string | undefined): RequestTarget {
  if (!raw?.startsWith("/") || raw.startsWith("//"))
    throw new InvalidInputError("request", "the request target must be a path starting with a single /");
  const q = raw.indexOf("?");
  const path = q === -1 ? raw : raw.slice(0, q);
  const segments: string[] = [];
  try {
    for (const part of path.split("/"))
      if (part) segments.push(part.includes("%") ? decodeURIComponent(part) : part);
  } catch {
    throw new InvalidInputError(
      "request",
      "the path has a malformed percent-encoding (such as % not followed by two hex digits)",
    );
  }
  // URLSearchParams never throws: malformed escapes stay as written.
  return { segments, query: q === -1 ? NO_QUERY : new URLSearchParams(raw.slice(q + 1)) };
}
