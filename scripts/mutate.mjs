#!/usr/bin/env node
// npm run mutate: StrykerJS over the judge (core/decide, core/compare) and the operations, with
// the settings in stryker.config.json; extra arguments go to `stryker run` (e.g. --mutate GLOB).
//
// StrykerJS 10 declares Node >= 22 and refuses to start on older versions; the project supports
// Node 20, where the parts used here (the vitest runner, the TypeScript instrumenter) run. So on
// Node 20 the version guard alone is passed, and everything else is StrykerJS as shipped.
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";

const major = Number(process.versions.node.split(".")[0]);
if (major < 22) Object.defineProperty(process, "version", { value: "v22.0.0" });
const require = createRequire(import.meta.url);
const cli = pathToFileURL(
  require.resolve("@stryker-mutator/core/package.json").replace(/package\.json$/, "dist/src/index.js"),
);
const { StrykerCli } = await import(cli.href);
new StrykerCli([process.argv[0], "stryker", "run", ...process.argv.slice(2)]).run();
