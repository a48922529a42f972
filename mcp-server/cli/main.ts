#!/usr/bin/env node
import { parseArgs } from "node:util";
import { clip, quote } from "../core/clip.js";
import { nearest } from "../core/did-you-mean.js";
import { PRODUCT_VERSION } from "../version.js";
import type { Command } from "./command.js";
import { COMMANDS, type CommandEntry } from "./commands/index.js";
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

/** Node's parser messages ("Unknown option '--at'. To specify a positional argument...") in our words. */
export function argsErrorText(command: Command, error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  const message = error instanceof Error ? error.message : String(error);
  const option = /'(-{1,2}[^' ]+)/.exec(message)?.[1];
  const names = Object.keys(command.options).map((o) => `--${o}`);
  if (code === "ERR_PARSE_ARGS_UNKNOWN_OPTION" && option) {
    const name = option.replace(/^-+/, "").split("=")[0] ?? "";
    const guess = nearest(name, Object.keys(command.options));
    return `canary ${command.name} has no option ${clip(option, 40)}${guess ? `; did you mean --${guess}?` : ""} (its options: ${names.join(", ") || "none"}; see canary ${command.name} --help)`;
  }
  if (code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE" && option) {
    const takesValue = command.options[option.replace(/^-+/, "")]?.type === "string";
    return takesValue
      ? `${option} needs a value (${option} VALUE); see canary ${command.name} --help`
      : `${option} takes no value; see canary ${command.name} --help`;
  }
  return `${clip(message, 200)}; see canary ${command.name} --help`;
}

/** Longest command name that prefixes argv ("policy validate" before "policy"). */
function findCommand(argv: string[]): { entry: CommandEntry; rest: string[] } | undefined {
  for (const words of [2, 1]) {
    const name = argv.slice(0, words).join(" ");
    const entry = COMMANDS.find((c) => c.name === name);
    if (entry) return { entry, rest: argv.slice(words) };
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
      new UsageError(`unknown command ${quote(argv.slice(0, 2).join(" "))}; run canary --help for the list`),
      json,
    );
  }
  const { entry, rest } = found;
  const command: Command = await entry.load();
  if (rest.includes("--help") || rest.includes("-h")) {
    process.stdout.write(`${command.usage}\n`);
    return EXIT.ok;
  }
  try {
    let parsed: ReturnType<typeof parseArgs>;
    try {
      parsed = parseArgs({ args: rest, options: command.options, allowPositionals: true, strict: true });
    } catch (error) {
      throw new UsageError(argsErrorText(command, error));
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

// `canary preflight ... | head` closes the pipe before we are done: stop quietly, as Unix tools
// do, instead of dying on an unhandled EPIPE with a stack trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code !== "EPIPE") throw error;
    process.exit(typeof process.exitCode === "number" ? process.exitCode : EXIT.ok);
  });
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
