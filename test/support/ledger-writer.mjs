// Writes deployments through the product's own operations as fast as it can, forever, so a test
// can kill it at an arbitrary point in the middle of a transaction.
import { createAssigner } from "../../dist/mcp-server/cohort-assigner.js";
import { openLedger } from "../../dist/mcp-server/ledger/open.js";
import { realClock } from "../../dist/mcp-server/operations/context.js";
import { startDeployment } from "../../dist/mcp-server/operations/start-deployment.js";

const [ledgerPath, prefix] = process.argv.slice(2);
const ledger = openLedger(ledgerPath);
const ctx = {
  ledger,
  clock: realClock,
  actor: "writer",
  assigner: await createAssigner(),
  readPolicyFile: () => "",
};
const policy = (service) => ({
  service,
  ladder: [{ percent: 1, window: "30m" }, { percent: 100 }],
  metrics: [
    {
      name: "errors",
      type: "ratio",
      events: "e",
      trials: "t",
      bad: "increase",
      tolerance: { relative: 0.1 },
    },
  ],
});
let i = 0;
process.stdout.write("ready\n");
for (;;) {
  startDeployment(ctx, { deployment_id: `${prefix}-${i}`, policy: policy(`svc-${prefix}-${i}`) });
  i++;
}
