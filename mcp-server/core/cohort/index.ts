export {
  type AssignmentRequest,
  assign,
  BUCKETS,
  bucketOf,
  type CohortAssigner,
  type CohortAssignment,
  createCohortAssigner,
  deploymentSeed,
  percentToThreshold,
  SEED_CACHE_SIZE,
  type Xxh32,
} from "./assign.js";
export {
  matchesPopulation,
  type PopulationFilter,
  type PopulationFilterShape,
  parsePopulationFilter,
  populationFilterSchema,
  type UnitAttributes,
} from "./population.js";
export { MAX_UNIT_ID_BYTES, normalizeUnitId } from "./unitId.js";
