import { z } from "zod";
import { policySchema } from "./schema.js";

/**
 * The JSON Schema editors use to complete and check policy files, generated from the zod schema
 * (the single source). Input side: fields with defaults are optional, as a person writes them.
 */
export function policyJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(policySchema, {
    io: "input",
    unrepresentable: "any",
    target: "draft-2020-12",
  }) as Record<string, unknown>;
  return {
    $id: "urn:canary-pilot:policy",
    title: "canary-pilot policy",
    description:
      "A canary deployment policy: ladder, metrics with direction, tolerance and margin, and what to do when.",
    ...schema,
  };
}
