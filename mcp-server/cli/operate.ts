import type { OperationContext } from "../operations/context.js";
import { type ParsedArgs, str } from "./command.js";
import { openContext } from "./context.js";
import { callRemote, remoteTarget } from "./remote.js";

/** What a command needs of an MCP tool: its name on the server, its operation, whether it only reads. */
export interface CommandOperation<I, O> {
  name: string;
  run: (ctx: OperationContext, input: I) => O | Promise<O>;
  annotations: { readOnlyHint?: boolean };
}

/** Whether this command runs against a server (CANARY_SERVER or --server). */
export function isRemote(args: ParsedArgs, env: NodeJS.ProcessEnv = process.env): boolean {
  return remoteTarget(str(args, "server"), env) !== undefined;
}

/**
 * Runs a tool's operation where the command is pointed: as that tool on the shared server when
 * CANARY_SERVER (or --server) is set, else on the local ledger (--ledger / CANARY_LEDGER, opened
 * read-only for read-only tools), closing it afterwards.
 */
export async function operate<I, O>(
  args: ParsedArgs,
  op: CommandOperation<I, O>,
  input: I,
  opts: { access?: "read" | "write"; cohorts?: boolean; env?: NodeJS.ProcessEnv } = {},
): Promise<O> {
  const env = opts.env ?? process.env;
  const target = remoteTarget(str(args, "server"), env);
  if (target) return callRemote<O>(target, op.name, input);
  // A read-only tool may still store what it pulls from a metric source (compare): such callers ask for write.
  const access = opts.access ?? (op.annotations.readOnlyHint ? "read" : "write");
  const ctx = await openContext(
    { ledger: str(args, "ledger"), clock: str(args, "clock"), access, cohorts: opts.cohorts },
    env,
  );
  try {
    return await op.run(ctx, input);
  } finally {
    ctx.ledger.close();
  }
}
