import {
  BusyError,
  type ErrorClass,
  IntegrityError,
  InvalidInputError,
  NotFoundError,
  RefusedError,
} from "../core/errors.js";

// Remote mode: with CANARY_SERVER (or --server URL) and CANARY_TOKEN, a command calls the same
// operation as an MCP tool on a shared `canary serve`, so a CI runner needs no ledger on disk.
// The tool returns what the local operation returns, and its error class comes back in the
// result's _meta, so output and exit codes are the same either way.

export interface RemoteTarget {
  url: string;
  token: string | undefined;
}

export function remoteTarget(server: string | undefined, env: NodeJS.ProcessEnv): RemoteTarget | undefined {
  const raw = server ?? env.CANARY_SERVER;
  if (!raw) return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new InvalidInputError(
      "--server",
      `${JSON.stringify(raw.slice(0, 100))} is not a URL; pass the canary serve address, e.g. https://canary.internal:8787`,
    );
  }
  if (url.protocol !== "http:" && url.protocol !== "https:")
    throw new InvalidInputError("--server", "the server address must be http:// or https://");
  if (!url.pathname.endsWith("/mcp")) url.pathname = `${url.pathname.replace(/\/+$/, "")}/mcp`;
  return { url: url.toString(), token: env.CANARY_TOKEN?.trim() || undefined };
}

const ERROR_META_KEY = "canary-pilot/error";

function typedError(c: ErrorClass): Error {
  switch (c.kind) {
    case "not_found":
      return new NotFoundError(c.field ?? "deployment_id", c.message);
    case "invalid_input":
      return new InvalidInputError(c.field ?? "input", c.message);
    case "refused":
      return new RefusedError(c.field ?? "refused", c.message);
    case "busy":
      return new BusyError(c.message);
    case "integrity":
      return new IntegrityError(c.message);
    default:
      return new Error(c.message);
  }
}

function isErrorClass(v: unknown): v is ErrorClass {
  return typeof v === "object" && v !== null && typeof (v as ErrorClass).kind === "string";
}

function status(error: unknown): number | undefined {
  const code = (error as { code?: unknown }).code;
  return typeof code === "number" ? code : undefined;
}

/** Calls one tool on the server and returns its structured result, or throws the typed error it reported. */
export async function callRemote<T>(target: RemoteTarget, tool: string, input: unknown): Promise<T> {
  const [{ Client }, { StreamableHTTPClientTransport }] = await Promise.all([
    import("@modelcontextprotocol/sdk/client/index.js"),
    import("@modelcontextprotocol/sdk/client/streamableHttp.js"),
  ]);
  const headers: Record<string, string> = {};
  if (target.token) headers.authorization = `Bearer ${target.token}`;
  const transport = new StreamableHTTPClientTransport(new URL(target.url), { requestInit: { headers } });
  const client = new Client({ name: "canary-cli", version: "1" });
  const where = new URL(target.url).host;
  try {
    try {
      await client.connect(transport, { timeout: 30_000 });
    } catch (error) {
      const code =
        status(error) ??
        (error instanceof Error && /401|Unauthorized/i.test(error.message) ? 401 : undefined);
      if (code === 401)
        throw new RefusedError(
          "authorization",
          `the server at ${where} wants a valid token: set CANARY_TOKEN`,
        );
      if (code === 403)
        throw new RefusedError(
          "authorization",
          `the server at ${where} refused this request (token role, Host or Origin)`,
        );
      throw new BusyError(
        `the server at ${where} did not answer (${error instanceof Error ? error.message.slice(0, 200) : "no answer"}); nothing was done there, retry`,
      );
    }
    const result = await client.callTool(
      { name: tool, arguments: input as Record<string, unknown> },
      undefined,
      {
        timeout: 120_000,
      },
    );
    if (result.isError) {
      const meta = (result._meta as Record<string, unknown> | undefined)?.[ERROR_META_KEY];
      if (isErrorClass(meta)) throw typedError(meta);
      const first = (result.content as { type: string; text?: string }[])[0];
      throw new InvalidInputError("input", first?.text ?? "the server refused the call");
    }
    return result.structuredContent as T;
  } finally {
    await client.close().catch(() => undefined);
  }
}
