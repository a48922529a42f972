// After tsc: bundles the CLI into dist/cli/ and makes its entry executable.
//
// A command's start-up is mostly module loading (zod alone is 95 files): the bundle puts the CLI
// and its dependencies into a few files, one chunk per command loaded only when it runs, so a CI
// step pays for what it uses. The native SQLite binding stays an ordinary dependency.
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
  output: { dir: out, format: "esm", entryFileNames: "[name].js", chunkFileNames: "[name]-[hash].js" },
});
chmodSync(`${out}/main.js`, 0o755);
