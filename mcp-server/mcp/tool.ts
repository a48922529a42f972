import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { CallToolResult, ToolAnnotations } from "@modelcontextprotocol/sdk/types.js";
import { z } from "zod";
import { InvalidInputError, RefusedError } from "../core/errors.js";
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

/** Maps the product's two kinds of "no" (and anything unexpected) to an isError result a person can act on. */
export function errorResult(error: unknown): CallToolResult {
  let text: string;
  if (error instanceof InvalidInputError) text = `Invalid input: ${error.field}: ${error.message}`;
  else if (error instanceof RefusedError) text = `Refused (${error.rule}): ${error.message}`;
  else if (error instanceof z.ZodError) {
    text = `Invalid input: ${error.issues.map((i) => `${i.path.join(".") || "(arguments)"}: ${i.message}`).join("; ")}`;
  } else text = `Internal error: ${error instanceof Error ? error.message : String(error)}`;
  return { content: [{ type: "text", text }], isError: true };
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
