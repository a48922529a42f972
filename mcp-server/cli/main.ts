#!/usr/bin/env node
import { parseArgs } from "node:util";
import { PRODUCT_VERSION } from "../version.js";
import type { Command } from "./command.js";
import { COMMANDS } from "./commands/index.js";
import { EXIT, reportError, UsageError } from "./output.js";

function help(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return `canary ${PRODUCT_VERSION}: canary deployments judged by anytime-valid statistics

Usage: canary COMMAND [options]   (canary COMMAND --help for details)

Commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`).join("\n")}

Exit codes: 0 ok / promote / completed; 1 internal error; 2 bad input; 3 refused;
4 ledger integrity failure; 5 busy (ledger locked: retry); 10 hold / still running;
20 rollback / rolled back.
`;
}

/** Longest command name that prefixes argv ("policy validate" before "policy"). */
function findCommand(argv: string[]): { command: Command; rest: string[] } | undefined {
  for (const words of [2, 1]) {
    const name = argv.slice(0, words).join(" ");
    const command = COMMANDS.find((c) => c.name === name);
    if (command) return { command, rest: argv.slice(words) };
  }
  return undefined;
}

export async function main(argv: string[]): Promise<number> {
  if (argv.length === 0 || argv[0] === "--help" || argv[0] === "-h" || argv[0] === "help") {
    process.stdout.write(help());
    return argv.length === 0 ? EXIT.badInput : EXIT.ok;
  }
  if (argv[0] === "--version") {
    process.stdout.write(`${PRODUCT_VERSION}\n`);
    return EXIT.ok;
  }
  const found = findCommand(argv);
  const json = argv.includes("--json");
  if (!found) {
    return reportError(
      new UsageError(
        `unknown command ${JSON.stringify(argv.slice(0, 2).join(" "))}; run canary --help for the list`,
      ),
      json,
    );
  }
  const { command, rest } = found;
  if (rest.includes("--help") || rest.includes("-h")) {
    process.stdout.write(`${command.usage}\n`);
    return EXIT.ok;
  }
  try {
    let parsed: ReturnType<typeof parseArgs>;
    try {
      parsed = parseArgs({ args: rest, options: command.options, allowPositionals: true, strict: true });
    } catch (error) {
      throw new UsageError(
        `${error instanceof Error ? error.message : String(error)}; see canary ${command.name} --help`,
      );
    }
    const { min, max } = command.positionals ?? { min: 0, max: 0 };
    if (parsed.positionals.length < min || parsed.positionals.length > max) {
      throw new UsageError(`wrong number of arguments; usage: ${command.usage.split("\n")[0]}`);
    }
    return await command.run({ values: parsed.values, positionals: parsed.positionals });
  } catch (error) {
    return reportError(error, json);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(
      `canary: internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exitCode = EXIT.internal;
  },
);
