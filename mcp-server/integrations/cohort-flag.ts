import type { CohortAssigner, UnitAttributes } from "../core/cohort/index.js";
import { InvalidInputError } from "../core/errors.js";
import type { Cohort } from "../core/slice.js";
import type { RoutingState } from "./routing-view.js";

// A deployment seen as a feature flag (OpenFeature, OFREP): the flag's variant is the unit's
// cohort, decided by the same assigner as assign_cohort, so every path routes a unit alike.

/** OpenFeature error codes this flag can end in (the subset of the specification's list we use). */
export type FlagErrorCode = "TARGETING_KEY_MISSING" | "INVALID_CONTEXT" | "FLAG_NOT_FOUND" | "PARSE_ERROR";

export class FlagError extends Error {
  constructor(
    readonly code: FlagErrorCode,
    message: string,
  ) {
    super(message);
    this.name = "FlagError";
  }
}

export interface CohortFlag {
  /** true for the canary, false for control and excluded. */
  value: boolean;
  variant: Cohort;
  reason: "SPLIT";
  metadata: { deployment_id: string; service?: string; state: string; percent: number; bucket: number };
}

/** An evaluation context as OpenFeature defines it: targetingKey plus attributes of any JSON type. */
export type FlagContext = Record<string, unknown>;

/**
 * The context's attributes that a population filter can test: strings, numbers and booleans
 * (OpenFeature also allows dates, lists and objects; a filter never names those, so they are left out).
 */
export function populationAttributes(context: FlagContext): UnitAttributes {
  const out: UnitAttributes = {};
  for (const [k, v] of Object.entries(context)) {
    if (k === "targetingKey") continue;
    if (typeof v === "string" || typeof v === "boolean" || (typeof v === "number" && Number.isFinite(v)))
      out[k] = v;
  }
  return out;
}

/** The unit's cohort in the deployment as a flag evaluation; throws FlagError with an OpenFeature code. */
export function evaluateCohortFlag(
  assigner: CohortAssigner,
  routing: RoutingState,
  context: FlagContext | undefined,
): CohortFlag {
  const unit = context?.targetingKey;
  if (typeof unit !== "string" || unit.length === 0)
    throw new FlagError(
      "TARGETING_KEY_MISSING",
      "the evaluation context needs a targetingKey: the unit id (user, account or device) to route",
    );
  let assigned: ReturnType<CohortAssigner["assign"]>;
  try {
    assigned = assigner.assign({
      deploymentId: routing.deployment_id,
      unitId: unit,
      percent: routing.percent,
      attributes: populationAttributes(context ?? {}),
      population: routing.population ?? undefined,
    });
  } catch (error) {
    if (error instanceof InvalidInputError)
      throw new FlagError(
        "INVALID_CONTEXT",
        `${error.field === "unit_id" ? "targetingKey" : error.field}: ${error.message}`,
      );
    throw error;
  }
  return {
    value: assigned.cohort === "canary",
    variant: assigned.cohort,
    reason: "SPLIT",
    metadata: {
      deployment_id: routing.deployment_id,
      ...(routing.service === undefined ? {} : { service: routing.service }),
      state: routing.state,
      percent: assigned.percent,
      bucket: assigned.bucket,
    },
  };
}
