import { spawnSync } from "node:child_process";
import { OpenFeature, ProviderEvents } from "@openfeature/server-sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CanaryProvider } from "../../mcp-server/integrations/openfeature/index.js";
import { assignCohort } from "../../mcp-server/operations/assign-cohort.js";
import { promoteStep } from "../../mcp-server/operations/promote-step.js";
import { rollback } from "../../mcp-server/operations/rollback.js";
import { startDeployment } from "../../mcp-server/operations/start-deployment.js";
import { REPO } from "../support/cli.js";
import { basicPolicy } from "../support/policies.js";
import { serveInProcess } from "../support/serve-in-process.js";

// The real @openfeature/server-sdk drives our provider against a real serve on a real ledger.

const UNITS = Array.from({ length: 10_000 }, (_, i) => (i % 97 === 0 ? `usér-${i}` : `user-${i}`));
const POPULATION = { not: { attribute: "plan", equals: "internal" } };
const planOf = (i: number) => (i % 10 === 0 ? "internal" : "pro");

describe("CanaryProvider through the real OpenFeature server SDK", () => {
  let serve: Awaited<ReturnType<typeof serveInProcess>>;
  const provider = () => new CanaryProvider({ server: serve.base, refreshMs: 0, flags: ["of-1"] });
  let canary: CanaryProvider;

  beforeAll(async () => {
    serve = await serveInProcess();
    startDeployment(serve.ctx, {
      deployment_id: "of-1",
      policy: basicPolicy({ service: "checkout", population: POPULATION }),
    });
    canary = provider();
    await OpenFeature.setProviderAndWait("canary", canary);
  });
  afterAll(async () => {
    await OpenFeature.close();
    await serve?.close();
  });

  async function agreeOnEvery(key: string): Promise<Record<string, number>> {
    const client = OpenFeature.getClient("canary");
    const counts: Record<string, number> = {};
    for (let i = 0; i < UNITS.length; i++) {
      const unit = UNITS[i]!;
      const details = await client.getBooleanDetails(key, false, { targetingKey: unit, plan: planOf(i) });
      const expected = assignCohort(serve.ctx, {
        deployment_id: "of-1",
        unit_id: unit,
        attributes: { plan: planOf(i) },
      });
      if (details.variant !== expected.cohort || details.value !== (expected.cohort === "canary"))
        throw new Error(`unit ${unit}: provider said ${details.variant}, assign_cohort ${expected.cohort}`);
      if (details.reason !== "SPLIT" || details.flagMetadata.bucket !== expected.bucket)
        throw new Error(
          `unit ${unit}: reason ${details.reason}, bucket ${String(details.flagMetadata.bucket)}`,
        );
      counts[expected.cohort] = (counts[expected.cohort] ?? 0) + 1;
    }
    return counts;
  }

  it("agrees with assign_cohort on 10 000 ids before and after a promotion, and says CONFIGURATION_CHANGED", async () => {
    const before = await agreeOnEvery("of-1");
    expect(before.excluded).toBe(1000);
    expect(before.canary).toBeGreaterThan(40);
    const changed: string[][] = [];
    OpenFeature.getClient("canary").addHandler(ProviderEvents.ConfigurationChanged, (e) => {
      changed.push(e?.flagsChanged ?? []);
    });
    expect(await canary.refresh()).toEqual([]);
    promoteStep(serve.ctx, { deployment_id: "of-1", override: { reason: "test: move to 5%" } });
    expect(await canary.refresh()).toEqual(["of-1"]);
    expect(changed).toEqual([["of-1"]]);
    const after = await agreeOnEvery("of-1");
    expect(after.canary).toBeGreaterThan((before.canary ?? 0) * 3);
    // The service name means its active deployment: the same cohorts.
    const client = OpenFeature.getClient("canary");
    for (const i of [0, 1, 2, 3, 500, 9999]) {
      const context = { targetingKey: UNITS[i]!, plan: planOf(i) };
      const viaService = await client.getStringDetails("checkout", "none", context);
      const viaId = await client.getStringDetails("of-1", "none", context);
      expect(viaService.errorMessage).toBeUndefined();
      expect(viaService.value).toBe(viaId.value);
      expect(viaService.flagMetadata.deployment_id).toBe("of-1");
    }
  });

  it("answers with OpenFeature error codes: TARGETING_KEY_MISSING, FLAG_NOT_FOUND, INVALID_CONTEXT, TYPE_MISMATCH", async () => {
    const client = OpenFeature.getClient("canary");
    const missing = await client.getBooleanDetails("of-1", false, {});
    expect(missing).toMatchObject({ value: false, reason: "ERROR", errorCode: "TARGETING_KEY_MISSING" });
    const unknown = await client.getBooleanDetails("no-such-flag", false, { targetingKey: "u1" });
    expect(unknown).toMatchObject({ value: false, errorCode: "FLAG_NOT_FOUND" });
    const tooLong = await client.getBooleanDetails("of-1", false, { targetingKey: "x".repeat(600) });
    expect(tooLong).toMatchObject({ value: false, errorCode: "INVALID_CONTEXT" });
    expect(tooLong.errorMessage).toMatch(/targetingKey/);
    const number = await client.getNumberDetails("of-1", 7, { targetingKey: "u1" });
    expect(number).toMatchObject({ value: 7, errorCode: "TYPE_MISMATCH" });
  });

  it("answers PROVIDER_NOT_READY while its serve cannot be reached, and goes STALE but keeps routing known flags", async () => {
    const down = new CanaryProvider({ server: "http://127.0.0.1:9", refreshMs: 0 });
    await OpenFeature.setProviderAndWait("down", down);
    const notReady = await OpenFeature.getClient("down").getBooleanDetails("of-1", false, {
      targetingKey: "u1",
    });
    expect(notReady).toMatchObject({ value: false, errorCode: "PROVIDER_NOT_READY" });

    // A provider that loaded its flag keeps answering from the last known state when serve dies.
    const other = await serveInProcess();
    startDeployment(other.ctx, { deployment_id: "of-2", policy: basicPolicy({ service: "search" }) });
    const survivor = new CanaryProvider({ server: other.base, refreshMs: 0, flags: ["of-2"] });
    await OpenFeature.setProviderAndWait("survivor", survivor);
    const stale: unknown[] = [];
    OpenFeature.getClient("survivor").addHandler(ProviderEvents.Stale, (e) => stale.push(e));
    const live = await OpenFeature.getClient("survivor").getStringValue("of-2", "none", {
      targetingKey: "u7",
    });
    await other.close();
    await expect(survivor.refresh()).rejects.toThrow();
    expect(stale).toHaveLength(1);
    expect(
      await OpenFeature.getClient("survivor").getStringValue("of-2", "none", { targetingKey: "u7" }),
    ).toBe(live);
  });

  it("reads a ledger file directly, and a rollback moves every unit to control", async () => {
    startDeployment(serve.ctx, { deployment_id: "of-3", policy: basicPolicy({ service: "cart" }) });
    const local = new CanaryProvider({ ledger: serve.ledgerPath, refreshMs: 0, flags: ["cart"] });
    await OpenFeature.setProviderAndWait("local", local);
    const client = OpenFeature.getClient("local");
    let canaries = 0;
    for (let i = 0; i < 2000; i++) {
      const v = await client.getStringValue("cart", "none", { targetingKey: `u${i}` });
      expect(v).toBe(assignCohort(serve.ctx, { deployment_id: "of-3", unit_id: `u${i}` }).cohort);
      if (v === "canary") canaries++;
    }
    expect(canaries).toBeGreaterThan(0);
    rollback(serve.ctx, { deployment_id: "of-3", reason: "test: roll back" });
    expect(await local.refresh()).toEqual(["cart"]);
    for (let i = 0; i < 2000; i++)
      expect(await client.getBooleanValue("cart", true, { targetingKey: `u${i}` })).toBe(false);
  });

  it("is what the built package exports as canary-pilot/openfeature", () => {
    const script =
      "import('canary-pilot/openfeature').then((m) => console.log(typeof m.CanaryProvider, new m.CanaryProvider({ server: 'http://x' }).metadata.name))";
    const r = spawnSync(process.execPath, ["--input-type=module", "-e", script], {
      cwd: REPO,
      encoding: "utf8",
    });
    expect(r.stderr).toBe("");
    expect(r.stdout.trim()).toBe("function canary-pilot");
  });
});
