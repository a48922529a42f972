import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { CallToolResult, ToolAnnotations } from "@modelcontextprotocol/sdk/types.js";
import type { z } from "zod";
import { classifyError, type ErrorClass, RefusedError } from "../core/errors.js";
import { whenLedgerFree } from "../ledger/busy.js";
import type { OperationContext } from "../operations/context.js";
import { type PolicyFiles, withPolicyFile } from "../operations/policy-files.js";

/** One MCP tool: schemas in and out, honest hints, and a handler that calls one operation. */
export interface ToolDefinition<In extends z.ZodType, Out extends z.ZodObject> {
  name: string;
  title: string;
  description: string;
  input: In;
  output: Out;
  annotations: Omit<ToolAnnotations, "title">;
  run: (ctx: OperationContext, input: z.infer<In>) => z.infer<Out> | Promise<z.infer<Out>>;
}

/** A tool ready to be put on a server; the list of tools holds these (their schemas differ). */
export interface ServerTool {
  name: string;
  input: z.ZodType;
  output: z.ZodObject;
  register(server: McpServer, ctx: OperationContext, access: ToolAccess): void;
}

/** What the caller of a server may do: act or only read, and which policy files it may name. */
export interface ToolAccess {
  /** False for viewer tokens: tools that change state are refused. */
  canWrite: boolean;
  policyFiles: PolicyFiles;
}

/** How long a tool call keeps retrying while another process holds the ledger's write lock. */
const BUSY_DEADLINE_MS = 10_000;

export function defineTool<In extends z.ZodType, Out extends z.ZodObject>(
  def: ToolDefinition<In, Out>,
): ServerTool & ToolDefinition<In, Out> {
  return { ...def, register: (server, ctx, access) => registerTool(server, ctx, def, access) };
}

const PREFIX: Record<ErrorClass["kind"], string> = {
  invalid_input: "Invalid input",
  not_found: "Not found",
  refused: "Refused",
  busy: "Busy (safe to retry)",
  integrity: "Ledger integrity failure",
  internal: "Internal error",
};

/** Where an error result carries its class for programs (the CLI's remote mode maps it to exit codes). */
export const ERROR_META_KEY = "canary-pilot/error";

/** Maps the product's kinds of "no" (and anything unexpected) to an isError result a person can act on. */
export function errorResult(error: unknown): CallToolResult {
  const c = classifyError(error);
  const where = c.kind === "refused" ? ` (${c.field})` : "";
  const field =
    (c.kind === "invalid_input" || c.kind === "not_found") && c.field && !c.message.startsWith(`${c.field}:`)
      ? `${c.field}: `
      : "";
  return {
    content: [{ type: "text", text: `${PREFIX[c.kind]}${where}: ${field}${c.message}` }],
    isError: true,
    _meta: { [ERROR_META_KEY]: c },
  };
}

export function registerTool<In extends z.ZodType, Out extends z.ZodObject>(
  server: McpServer,
  ctx: OperationContext,
  def: ToolDefinition<In, Out>,
  access: ToolAccess,
): void {
  server.registerTool(
    def.name,
    {
      title: def.title,
      description: def.description,
      inputSchema: def.input,
      outputSchema: def.output,
      annotations: { title: def.title, ...def.annotations },
    },
    // The SDK has validated the arguments against def.input already.
    (async (args: z.infer<In>): Promise<CallToolResult> => {
      try {
        if (!def.annotations.readOnlyHint && !access.canWrite)
          throw new RefusedError(
            "role",
            `${def.name} changes state and needs an operator token; this token's role is viewer (read-only tools only)`,
          );
        const runCtx = await withPolicyFile(
          ctx,
          access.policyFiles,
          (args as { policy?: unknown } | undefined)?.policy,
        );
        // A BusyError means nothing was written: wait for the lock without blocking the event loop.
        const result = await whenLedgerFree(() => def.run(runCtx, args), { deadlineMs: BUSY_DEADLINE_MS });
        return {
          content: [{ type: "text", text: JSON.stringify(result) }],
          structuredContent: result as Record<string, unknown>,
        };
      } catch (error) {
        return errorResult(error);
      }
    }) as never,
  );
}
