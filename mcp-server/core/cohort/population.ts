import { z } from "zod";
import { InvalidInputError } from "../errors.js";

// The population filter decides which units take part in a canary at all; the rest are `excluded`
// (they stay on the stable version and are not counted). It is evaluated on every routing call and
// re-implemented by gateways that poll the routing endpoint, so it is deliberately small: typed
// equality, membership, prefixes/suffixes, presence, numeric bounds, and boolean composition. No
// regular expressions: they differ between languages and can be made to run for ages.

/** What a router knows about a unit, e.g. `{ email: "a@example.com", plan: "pro", beta: true }`. */
export type UnitAttributes = Record<string, string | number | boolean>;

const attributeValueSchema = z.union([
  z.string(),
  z.number().refine(Number.isFinite, "must be a finite number"),
  z.boolean(),
]);

const LEAF_OPERATORS = [
  "equals",
  "in",
  "starts_with",
  "ends_with",
  "exists",
  "gt",
  "gte",
  "lt",
  "lte",
] as const;
const COMPOSITES = ["all", "any", "not"] as const;
type LeafOperator = (typeof LEAF_OPERATORS)[number];
type Composite = (typeof COMPOSITES)[number];

const finiteBound = z.number().refine(Number.isFinite, "must be a finite number");

type AttributeValue = string | number | boolean;

/** The shape the schema checks (same as PopulationFilter); spelled out because a recursive schema cannot infer its own type. */
export interface PopulationFilterShape {
  attribute?: string | undefined;
  equals?: AttributeValue | undefined;
  in?: AttributeValue[] | undefined;
  starts_with?: string | undefined;
  ends_with?: string | undefined;
  exists?: boolean | undefined;
  gt?: number | undefined;
  gte?: number | undefined;
  lt?: number | undefined;
  lte?: number | undefined;
  all?: PopulationFilterShape[] | undefined;
  any?: PopulationFilterShape[] | undefined;
  not?: PopulationFilterShape | undefined;
}

const filterShape = z.strictObject({
  attribute: z
    .string()
    .min(1, "name the unit attribute to test, e.g. email")
    .max(256)
    .optional()
    .meta({ description: "Unit attribute the operator tests." }),
  equals: attributeValueSchema
    .optional()
    .meta({ description: 'Attribute equals this value (same type: "1" is not 1).' }),
  in: z
    .array(attributeValueSchema)
    .min(1, "list at least one value")
    .max(10_000)
    .optional()
    .meta({ description: "Attribute equals one of these values." }),
  starts_with: z
    .string()
    .min(1, "an empty prefix matches everything; use exists: true")
    .optional()
    .meta({ description: "String attribute starts with this (case-sensitive)." }),
  ends_with: z
    .string()
    .min(1, "an empty suffix matches everything; use exists: true")
    .optional()
    .meta({ description: "String attribute ends with this (case-sensitive), e.g. @example.com." }),
  exists: z
    .boolean()
    .optional()
    .meta({ description: "true: the attribute is present; false: it is absent." }),
  gt: finiteBound.optional().meta({ description: "Numeric attribute is greater than this." }),
  gte: finiteBound.optional().meta({ description: "Numeric attribute is at least this." }),
  lt: finiteBound.optional().meta({ description: "Numeric attribute is less than this." }),
  lte: finiteBound.optional().meta({ description: "Numeric attribute is at most this." }),
  get all() {
    return z
      .array(populationFilterSchema)
      .min(1, "list at least one filter")
      .max(100)
      .optional()
      .meta({ description: "Every filter matches." });
  },
  get any() {
    return z
      .array(populationFilterSchema)
      .min(1, "list at least one filter")
      .max(100)
      .optional()
      .meta({ description: "At least one filter matches." });
  },
  get not() {
    return populationFilterSchema.optional().meta({ description: "The filter does not match." });
  },
});

export const populationFilterSchema: z.ZodType<PopulationFilterShape> = filterShape
  .superRefine(checkOperators)
  .meta({
    description:
      "Which units take part in the canary; the others are excluded. A leaf is {attribute, <operator>}; compose with all, any, not.",
  });

export type PopulationFilter = z.infer<typeof populationFilterSchema>;

function checkOperators(
  filter: Partial<Record<LeafOperator | Composite | "attribute", unknown>>,
  ctx: z.RefinementCtx,
): void {
  const leafOps = LEAF_OPERATORS.filter((op) => filter[op] !== undefined);
  const composites = COMPOSITES.filter((op) => filter[op] !== undefined);
  const operators = [...leafOps, ...composites];
  if (operators.length !== 1) {
    ctx.addIssue({
      code: "custom",
      path: [],
      message:
        operators.length === 0
          ? `give exactly one operator: one of ${LEAF_OPERATORS.join(", ")} with attribute, or one of all, any, not`
          : `give exactly one operator per filter, found ${operators.join(" and ")}: combine them with all: [...]`,
    });
    return;
  }
  if (leafOps.length === 1 && filter.attribute === undefined) {
    ctx.addIssue({
      code: "custom",
      path: ["attribute"],
      message: `${leafOps[0]} needs the attribute it tests`,
    });
  }
  if (composites.length === 1 && filter.attribute !== undefined) {
    ctx.addIssue({
      code: "custom",
      path: ["attribute"],
      message: `${composites[0]} combines filters and takes no attribute; put it on the inner filters`,
    });
  }
}

/**
 * Parses untrusted input into a filter; throws InvalidInputError whose field is the path of the
 * first problem (e.g. `population.all[1].ends_with`).
 */
export function parsePopulationFilter(input: unknown, field = "population"): PopulationFilter {
  const parsed = populationFilterSchema.safeParse(input);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const path = `${field}${(issue?.path ?? []).map((p) => (typeof p === "number" ? `[${p}]` : `.${String(p)}`)).join("")}`;
  throw new InvalidInputError(path, `${path}: ${issue?.message ?? "invalid population filter"}`);
}

/**
 * True when a unit with these attributes belongs to the population. Comparison is typed and exact:
 * a missing attribute, or one of another type than the operator needs, does not match (so
 * `{ not: { attribute: "plan", equals: "free" } }` includes units without a plan).
 */
export function matchesPopulation(filter: PopulationFilter, attributes: Readonly<UnitAttributes>): boolean {
  if (filter.all !== undefined) return filter.all.every((inner) => matchesPopulation(inner, attributes));
  if (filter.any !== undefined) return filter.any.some((inner) => matchesPopulation(inner, attributes));
  if (filter.not !== undefined) return !matchesPopulation(filter.not, attributes);
  const name = filter.attribute;
  // Own properties only: "constructor" or "__proto__" must not match through the prototype.
  const value = name !== undefined && Object.hasOwn(attributes, name) ? attributes[name] : undefined;
  const present = typeof value === "string" || typeof value === "number" || typeof value === "boolean";
  // Exactly one operator is set in a parsed filter; the order here only matters for hand-built ones.
  if (filter.exists !== undefined) return present === filter.exists;
  if (filter.equals !== undefined) return present && value === filter.equals;
  if (filter.in !== undefined) return present && filter.in.includes(value);
  if (filter.starts_with !== undefined)
    return typeof value === "string" && value.startsWith(filter.starts_with);
  if (filter.ends_with !== undefined) return typeof value === "string" && value.endsWith(filter.ends_with);
  if (filter.gt !== undefined) return typeof value === "number" && value > filter.gt;
  if (filter.gte !== undefined) return typeof value === "number" && value >= filter.gte;
  if (filter.lt !== undefined) return typeof value === "number" && value < filter.lt;
  if (filter.lte !== undefined) return typeof value === "number" && value <= filter.lte;
  // No operator at all (a hand-built filter): match nobody rather than everybody, so a mistake
  // narrows the canary instead of widening it.
  return false;
}
