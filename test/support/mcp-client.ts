import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { CLI, REPO } from "./cli.js";

/** The SDK's own client over stdio, talking to the built `canary mcp` in a child process. */
export async function connectCanary(opts: {
  ledger: string;
  clock?: "manual";
  env?: Record<string, string>;
}): Promise<Client> {
  const args = [CLI, "mcp", "--ledger", opts.ledger];
  if (opts.clock) args.push("--clock", opts.clock);
  const transport = new StdioClientTransport({
    command: process.execPath,
    args,
    cwd: REPO,
    env: { PATH: process.env.PATH ?? "", CANARY_ACTOR: "tester@example.com", ...opts.env },
    stderr: "pipe",
  });
  const client = new Client({ name: "canary-e2e", version: "1.0.0" });
  await client.connect(transport);
  return client;
}

/** Calls a tool and returns its result; the SDK client checks structuredContent against the tool's output schema. */
export async function call(
  client: Client,
  name: string,
  args: Record<string, unknown>,
): Promise<CallToolResult> {
  return (await client.callTool({ name, arguments: args })) as CallToolResult;
}

export function errorText(result: CallToolResult): string {
  const first = result.content[0];
  return first && first.type === "text" ? first.text : "";
}
