import { parseArgs } from "node:util";
import { COMMANDS } from "../../mcp-server/cli/commands/index.js";
import { reportError } from "../../mcp-server/cli/output.js";

/**
 * Runs one `canary` command in this process, the way cli/main.ts does (same parsing, same error
 * reporting and exit codes), capturing what it prints. For tests that would otherwise spawn dozens
 * of processes.
 */
export async function canaryInProcess(
  argv: string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = { stdout: "", stderr: "" };
  const write = (key: "stdout" | "stderr") => (chunk: string | Uint8Array) => {
    out[key] += typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8");
    return true;
  };
  const realOut = process.stdout.write;
  const realErr = process.stderr.write;
  process.stdout.write = write("stdout") as typeof process.stdout.write;
  process.stderr.write = write("stderr") as typeof process.stderr.write;
  try {
    const entry = COMMANDS.find((c) => c.name === argv[0]);
    if (!entry) throw new Error(`no command ${argv[0]}`);
    const command = await entry.load();
    let code: number;
    try {
      const parsed = parseArgs({
        args: argv.slice(1),
        options: command.options,
        allowPositionals: true,
        strict: true,
      });
      code = await command.run({ values: parsed.values, positionals: parsed.positionals });
    } catch (error) {
      code = reportError(error, argv.includes("--json"));
    }
    return { code, ...out };
  } finally {
    process.stdout.write = realOut;
    process.stderr.write = realErr;
  }
}
