import {
  recheckDecision,
  recheckDecisionInput,
  recheckDecisionOutput,
} from "../../operations/recheck-decision.js";
import { defineTool } from "../tool.js";

export const recheckDecisionTool = defineTool({
  name: "recheck_decision",
  title: "Recheck a recorded decision",
  description:
    "Recomputes a recorded decision from the stored slices and policy as they stood at its time and says whether the verdict, reasons and input/policy hashes still match. Read-only.",
  input: recheckDecisionInput,
  output: recheckDecisionOutput,
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  run: recheckDecision,
});
