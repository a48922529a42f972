import { isIP } from "node:net";

// DNS rebinding defence: a browser tricked into calling this server sends the attacker's host name
// in Host (and its origin in Origin). Every route answers only to the names the server is known by.

const LOOPBACK_NAMES = ["localhost", "127.0.0.1", "::1"];

/** Whether binding `host` keeps the server on this machine (127.0.0.0/8, ::1, localhost). */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, "");
  if (h === "localhost" || h === "::1") return true;
  return isIP(h) === 4 && h.startsWith("127.");
}

function wildcard(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, "");
  return h === "0.0.0.0" || h === "::" || h === "";
}

/** The host names requests may name: the loopback names, the bound address unless it is a wildcard, and extras. */
export function allowedHosts(bound: string, extra: readonly string[] = []): ReadonlySet<string> {
  const names = new Set(LOOPBACK_NAMES);
  if (!wildcard(bound)) names.add(bound.toLowerCase().replace(/^\[|\]$/g, ""));
  for (const e of extra) names.add(e.toLowerCase().replace(/^\[|\]$/g, ""));
  return names;
}

/** The host name in a Host header (`name`, `name:port`, `[v6]:port`), or undefined if malformed. */
export function hostOfHeader(header: string): string | undefined {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([A-Za-z0-9.-]+))(?::\d{1,5})?$/.exec(header);
  if (!m) return undefined;
  return (m[1] ?? m[2] ?? "").toLowerCase();
}

/** The host name of an Origin header's URL, or undefined ("null", malformed, not http(s)). */
export function hostOfOrigin(origin: string): string | undefined {
  try {
    const u = new URL(origin);
    if (u.protocol !== "http:" && u.protocol !== "https:") return undefined;
    return u.hostname.toLowerCase().replace(/^\[|\]$/g, "");
  } catch {
    return undefined;
  }
}
