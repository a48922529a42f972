import { withSourceCheck } from "../../operations/source-check.js";
import {
  startDeployment,
  startDeploymentInput,
  startDeploymentOutput,
} from "../../operations/start-deployment.js";
import { defineTool } from "../tool.js";

export const startDeploymentTool = defineTool({
  name: "start_deployment",
  title: "Start a canary deployment",
  description:
    "Starts a canary at the first rung of the policy's ladder (e.g. 1%). `policy` is a path to a YAML/JSON policy file or an inline policy object. Repeating a start with the same id, policy and version is a safe no-op (`moved: false`); refused if the id exists with another policy or version, or the service already has an active canary.",
  input: startDeploymentInput,
  output: startDeploymentOutput,
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  run: async (ctx, input) => withSourceCheck(ctx, input, startDeployment(ctx, input)),
});
