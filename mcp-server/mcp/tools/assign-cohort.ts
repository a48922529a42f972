import { assignCohort, assignCohortInput, assignCohortOutput } from "../../operations/assign-cohort.js";
import { defineTool } from "../tool.js";

export const assignCohortTool = defineTool({
  name: "assign_cohort",
  title: "Assign a unit to a cohort",
  description:
    "Stable cohort of a unit (user) for a deployment at its current percent: canary, control, or excluded (outside the policy's population). Same unit, same answer; a canary unit stays canary as the percent grows.",
  input: assignCohortInput,
  output: assignCohortOutput,
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  run: assignCohort,
});
