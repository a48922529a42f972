// Writes policies/policy.schema.json from the zod policy schema (run after `npm run build`).
// The test suite fails when the checked-in file is stale.
import { writeFileSync } from "node:fs";
import { policyJsonSchema } from "../dist/mcp-server/core/policy/json-schema.js";

const target = new URL("../policies/policy.schema.json", import.meta.url);
writeFileSync(target, `${JSON.stringify(policyJsonSchema(), null, 2)}\n`);
console.log(`wrote ${target.pathname.split("/").slice(-2).join("/")}`);
