import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { IntegrityError } from "../../../mcp-server/core/errors.js";
import { parsePolicyText } from "../../../mcp-server/core/policy/parse.js";
import { policySchema } from "../../../mcp-server/core/policy/schema.js";
import {
  getDeployment,
  listDeployments,
  storedPolicyHashes,
} from "../../../mcp-server/ledger/deployments.js";
import type { Ledger } from "../../../mcp-server/ledger/open.js";
import { startDeployment } from "../../../mcp-server/operations/start-deployment.js";
import { REPO } from "../../support/cli.js";
import { basicPolicy } from "../../support/policies.js";
import { iso, operationsContext, T0 } from "../operations/harness.js";

// A deployment's policy is read back from the ledger without the zod schema: the stored canonical
// JSON, once its hash checks out, is taken as the policy. That is sound only if the stored form is
// exactly what the schema makes of it (every default filled in at start), which these tests show
// for every policy the package ships, and for one that leaves every defaulted field out.

const shipped = [
  ...readdirSync(join(REPO, "policies"))
    .filter((f) => f.endsWith(".yaml"))
    .map((f) => join("policies", f)),
  ...readdirSync(join(REPO, "fixtures/scenarios"))
    .filter((f) => f.endsWith(".policy.yaml"))
    .map((f) => join("fixtures/scenarios", f)),
  "test/support/policy.yaml",
];

/** Every field with a default omitted, including those inside source, max_hold and the metrics. */
const allDefaultsLeftOut = {
  service: "checkout",
  ladder: [{ percent: 1, window: "30m" }, { percent: 100 }],
  metrics: [
    {
      name: "error_rate",
      type: "ratio",
      events: "http_errors",
      trials: "http_requests",
      bad: "increase",
      tolerance: { relative: 0.2 },
    },
    {
      name: "latency",
      type: "histogram",
      series: "http_latency_ms",
      bad: "increase",
      tolerance: { absolute: 50 },
    },
  ],
  source: {
    prometheus: { url: "http://prometheus.internal:9090" },
    series: {
      http_errors: 'sum(increase(errors{deployment="{{deployment}}",cohort="{{cohort}}"}[{{slice}}]))',
      http_requests: 'sum(increase(requests{deployment="{{deployment}}",cohort="{{cohort}}"}[{{slice}}]))',
      http_latency_ms:
        'sum by (le) (increase(latency_bucket{deployment="{{deployment}}",cohort="{{cohort}}"}[{{slice}}]))',
    },
  },
  max_hold: { after: "2h" },
};

/** What reading a deployment's policy returned while it went through the schema. */
function schemaReadOf(ledger: Ledger, id: string): unknown {
  const row = storedPolicyHashes(ledger).find((d) => d.id === id);
  return policySchema.parse(JSON.parse(row!.policy_json));
}

async function started(policy: string | Record<string, unknown>) {
  const ctx = await operationsContext();
  startDeployment(
    { ...ctx, readPolicyFile: (path) => readFileSync(join(REPO, path), "utf8") },
    { deployment_id: "d1", policy, at: iso(T0) },
  );
  return ctx.ledger;
}

function editStoredPolicy(ledger: Ledger, edit: (json: string) => string): void {
  const db = new Database(ledger.path);
  const json = db.prepare("SELECT policy_json FROM deployments WHERE id = 'd1'").pluck().get() as string;
  const edited = edit(json);
  expect(edited).not.toBe(json);
  db.prepare("UPDATE deployments SET policy_json = ? WHERE id = 'd1'").run(edited);
  db.close();
}

describe("a stored policy read back from the ledger", () => {
  it.each(shipped)(
    "%s: is the policy validated at start, and what the schema makes of the stored text",
    async (file) => {
      const validated = parsePolicyText(readFileSync(join(REPO, file), "utf8"));
      if (!validated.ok) throw new Error(`${file} is invalid: ${validated.errors[0]?.message}`);
      const ledger = await started(file);
      const { policy } = getDeployment(ledger, "d1");
      expect(policy).toStrictEqual(validated.policy);
      expect(policy).toStrictEqual(schemaReadOf(ledger, "d1"));
      // The population filter reaches JSON output (routing view, assign_cohort): same key order too.
      expect(JSON.stringify(policy.population)).toBe(JSON.stringify(validated.policy.population));
      ledger.close();
    },
  );

  it("has every default filled in, down to source, max_hold and each metric", async () => {
    const ledger = await started(allDefaultsLeftOut);
    const { policy } = getDeployment(ledger, "d1");
    expect(policy).toStrictEqual(schemaReadOf(ledger, "d1"));
    expect(policy).toMatchObject({
      slice: "1m",
      check_every: "15m",
      alpha: 0.05,
      max_segments: 50,
      approvers: [],
      notify: [],
      on_no_data: "hold",
      on_srm: "hold",
      auto_promote: true,
      auto_rollback: true,
      max_hold: { after: "2h", action: "rollback" },
      source: { lag: "1m", max_errors: 4, prometheus: { timeout: "10s" } },
      metrics: [{ critical: true }, { critical: true, percentiles: [50, 90, 99] }],
    });
    ledger.close();
  });

  it("refuses a policy edited in place, as valid JSON, with an integrity error (exit 4)", async () => {
    const ledger = await started(basicPolicy());
    editStoredPolicy(ledger, (json) => json.replace("release-lead@example.com", "mallory@example.com"));
    for (const read of [() => getDeployment(ledger, "d1"), () => listDeployments(ledger)]) {
      expect(read).toThrow(IntegrityError);
      expect(read).toThrow(
        /stored policy of deployment d1 was changed after it started \(its hash no longer matches\)/,
      );
    }
    ledger.close();
  });

  it("refuses a stored policy cut short (no longer JSON) with an integrity error", async () => {
    const ledger = await started(basicPolicy());
    editStoredPolicy(ledger, (json) => json.slice(0, -1));
    expect(() => getDeployment(ledger, "d1")).toThrow(/\(it no longer parses as a policy\)/);
    ledger.close();
  });
});
