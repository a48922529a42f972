export { createAssigner } from "./cohort-assigner.js";
export type {
  AssignmentRequest,
  CohortAssigner,
  CohortAssignment,
  PopulationFilter,
  UnitAttributes,
} from "./core/cohort/index.js";
