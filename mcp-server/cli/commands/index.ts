import type { Command } from "../command.js";
import { assignCommand } from "./assign.js";
import { auditCommand } from "./audit.js";
import { compareCommand } from "./compare.js";
import { decideCommand } from "./decide.js";
import { demoCommand } from "./demo.js";
import { ingestCommand } from "./ingest.js";
import { mcpCommand } from "./mcp.js";
import { pauseCommand, resumeCommand } from "./pause.js";
import { policyValidateCommand } from "./policy-validate.js";
import { preflightCommand } from "./preflight.js";
import { promoteCommand } from "./promote.js";
import { replayCommand } from "./replay.js";
import { reportCommand } from "./report.js";
import { rollbackCommand } from "./rollback.js";
import { serveCommand } from "./serve.js";
import { startCommand } from "./start.js";
import { statusCommand } from "./status.js";
import { tickCommand } from "./tick.js";
import { watchCommand } from "./watch.js";

export const COMMANDS: readonly Command[] = [
  startCommand,
  ingestCommand,
  compareCommand,
  reportCommand,
  decideCommand,
  promoteCommand,
  rollbackCommand,
  pauseCommand,
  resumeCommand,
  statusCommand,
  tickCommand,
  watchCommand,
  replayCommand,
  assignCommand,
  auditCommand,
  policyValidateCommand,
  preflightCommand,
  mcpCommand,
  serveCommand,
  demoCommand,
];
