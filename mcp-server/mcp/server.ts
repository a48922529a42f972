import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { OperationContext } from "../operations/context.js";
import { PRODUCT_VERSION } from "../version.js";
import { registerResources } from "./resources.js";
import type { ToolAccess } from "./tool.js";
import { TOOLS } from "./tools/index.js";

/** Builds the canary MCP server over an operation context; the transport is the caller's choice. */
export function createServer(ctx: OperationContext, access: ToolAccess): McpServer {
  const server = new McpServer(
    { name: "canary", title: "canary-pilot", version: PRODUCT_VERSION },
    {
      instructions:
        "canary-pilot judges canary deployments. Every number and verdict comes from these tools: quote them, never estimate. " +
        "compare_metrics is read-only; decide records a verdict without moving traffic; promote_step moves one rung and needs a fresh promote decision (or an approver's override); rollback is the brake anyone may pull, with a reason.",
    },
  );
  for (const tool of TOOLS) tool.register(server, ctx, access);
  registerResources(server, ctx);
  return server;
}
