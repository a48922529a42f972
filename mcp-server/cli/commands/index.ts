import type { Command } from "../command.js";
import { assignCommand } from "./assign.js";
import { auditCommand } from "./audit.js";
import { mcpCommand } from "./mcp.js";
import { policyValidateCommand } from "./policy-validate.js";
import { startCommand } from "./start.js";
import { statusCommand } from "./status.js";

export const COMMANDS: readonly Command[] = [
  startCommand,
  statusCommand,
  assignCommand,
  auditCommand,
  policyValidateCommand,
  mcpCommand,
];
