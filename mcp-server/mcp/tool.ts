import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { CallToolResult, ToolAnnotations } from "@modelcontextprotocol/sdk/types.js";
import type { z } from "zod";
import { classifyError, type ErrorClass } from "../core/errors.js";
import type { OperationContext } from "../operations/context.js";

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
  register(server: McpServer, ctx: OperationContext): void;
}

export function defineTool<In extends z.ZodType, Out extends z.ZodObject>(
  def: ToolDefinition<In, Out>,
): ServerTool & ToolDefinition<In, Out> {
  return { ...def, register: (server, ctx) => registerTool(server, ctx, def) };
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
        const result = await def.run(ctx, args);
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
