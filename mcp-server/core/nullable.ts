import { z } from "zod";

/**
 * `schema` or null, written as `anyOf` in JSON Schema. zod's `.nullable()` becomes a type array
 * (`["number", "null"]`), which some MCP clients' schema handling does not accept.
 */
export function orNull<T extends z.ZodType>(schema: T) {
  return z.union([schema, z.null().describe("not available")]);
}
