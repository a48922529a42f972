// After tsc: bundles the CLI into dist/cli/ and makes its entry executable.
//
// A command's start-up is mostly module loading (zod alone is 95 files): the bundle puts the CLI
// and its dependencies into a few files, one chunk per command loaded only when it runs, so a CI
// step pays for what it uses. The native SQLite binding stays an ordinary dependency.
//
// Left to itself the bundler cuts the shared code into a chunk per set of commands using it, so
// `canary status` loaded a dozen small files, and each file costs a resolve, a read and a compile.
// Two groups instead: what main.js itself needs (the command list, errors, output), and the ledger
// with the CLI plumbing every ledger command runs through (none of it loads zod). `canary status`
// then loads four files: main.js, the two groups and its own chunk; the other commands load about
// a third fewer files than without the groups.
import { chmodSync, rmSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { build } from "rolldown";

const root = fileURLToPath(new URL("..", import.meta.url));
const out = `${root}dist/cli`;
rmSync(out, { recursive: true, force: true });
await build({
  input: `${root}dist/mcp-server/cli/main.js`,
  platform: "node",
  external: ["better-sqlite3", /^node:/],
  logLevel: "warn",
  output: {
    dir: out,
    format: "esm",
    entryFileNames: "[name].js",
    chunkFileNames: "[name]-[hash].js",
    codeSplitting: {
      groups: [
        // main.js's static imports, but main.js's own code stays in main.js.
        { name: "cli", tags: ["$initial"], test: (id) => !/cli[\\/]main\.js$/.test(id), priority: 2 },
        {
          name: "ledger",
          test: /mcp-server[\\/](ledger[\\/][^\\/]+|cli[\\/](command|context|operate|remote)|operations[\\/](context|read-status|policy-files))\.js$/,
          priority: 1,
        },
      ],
    },
  },
});
chmodSync(`${out}/main.js`, 0o755);
