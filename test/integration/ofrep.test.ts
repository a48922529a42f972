import { OFREPProvider } from "@openfeature/ofrep-provider";
import { OpenFeature } from "@openfeature/server-sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { assignCohort } from "../../mcp-server/operations/assign-cohort.js";
import { promoteStep } from "../../mcp-server/operations/promote-step.js";
import { startDeployment } from "../../mcp-server/operations/start-deployment.js";
import { basicPolicy } from "../support/policies.js";
import { serveInProcess } from "../support/serve-in-process.js";

// The OpenFeature project's own OFREP provider (what the Go, Java, Python and .NET SDKs speak too)
// against serve's HTTP server on a real port and ledger.

const POPULATION = { attribute: "country", in: ["NL", "DE"] };
const countryOf = (i: number) => (i % 4 === 0 ? "US" : i % 2 === 0 ? "DE" : "NL");

describe("OFREP on serve, through the real @openfeature/ofrep-provider", () => {
  let serve: Awaited<ReturnType<typeof serveInProcess>>;

  beforeAll(async () => {
    serve = await serveInProcess();
    startDeployment(serve.ctx, {
      deployment_id: "ofrep-1",
      policy: basicPolicy({ service: "checkout", population: POPULATION }),
    });
    await OpenFeature.setProviderAndWait("ofrep", new OFREPProvider({ baseUrl: serve.base }));
  });
  afterAll(async () => {
    await OpenFeature.close();
    await serve?.close();
  });

  async function agree(n: number): Promise<Record<string, number>> {
    const client = OpenFeature.getClient("ofrep");
    const counts: Record<string, number> = {};
    for (let i = 0; i < n; i++) {
      const unit = `acct-${i}`;
      const d = await client.getBooleanDetails("ofrep-1", false, {
        targetingKey: unit,
        country: countryOf(i),
      });
      const want = assignCohort(serve.ctx, {
        deployment_id: "ofrep-1",
        unit_id: unit,
        attributes: { country: countryOf(i) },
      });
      if (d.variant !== want.cohort || d.value !== (want.cohort === "canary") || d.reason !== "SPLIT")
        throw new Error(
          `unit ${unit}: OFREP said ${d.variant}/${String(d.value)}/${d.reason}, assign_cohort ${want.cohort}`,
        );
      counts[want.cohort] = (counts[want.cohort] ?? 0) + 1;
    }
    return counts;
  }

  it("gives the same cohorts as assign_cohort for 300 ids, before and after a promotion", async () => {
    const before = await agree(300);
    expect(before.excluded).toBe(75);
    promoteStep(serve.ctx, { deployment_id: "ofrep-1", override: { reason: "test: move to 5%" } });
    const after = await agree(300);
    expect(after.canary).toBeGreaterThan(before.canary ?? 0);
  });

  it("maps our errors to the OFREP codes the client reports: FLAG_NOT_FOUND, TARGETING_KEY_MISSING, INVALID_CONTEXT", async () => {
    const client = OpenFeature.getClient("ofrep");
    expect(await client.getBooleanDetails("nope", false, { targetingKey: "u1" })).toMatchObject({
      value: false,
      errorCode: "FLAG_NOT_FOUND",
    });
    expect(await client.getBooleanDetails("ofrep-1", false, {})).toMatchObject({
      value: false,
      errorCode: "TARGETING_KEY_MISSING",
    });
    expect(await client.getBooleanDetails("ofrep-1", false, { targetingKey: "\u0007bell" })).toMatchObject({
      value: false,
      errorCode: "INVALID_CONTEXT",
    });
  });

  it("answers the documented request and error shapes on the wire, and bulk evaluation with ETag / 304", async () => {
    const post = (path: string, body: string, headers: Record<string, string> = {}) =>
      fetch(`${serve.base}${path}`, {
        method: "POST",
        body,
        headers: { "content-type": "application/json", ...headers },
      });
    const one = await post(
      "/ofrep/v1/evaluate/flags/checkout",
      JSON.stringify({ context: { targetingKey: "acct-2", country: "DE" } }),
    );
    expect(one.status).toBe(200);
    const want = assignCohort(serve.ctx, {
      deployment_id: "ofrep-1",
      unit_id: "acct-2",
      attributes: { country: "DE" },
    });
    expect(await one.json()).toEqual({
      key: "checkout",
      value: want.cohort === "canary",
      variant: want.cohort,
      reason: "SPLIT",
      metadata: {
        deployment_id: "ofrep-1",
        service: "checkout",
        state: "canary",
        percent: 5,
        bucket: want.bucket,
      },
    });
    const bad = await post("/ofrep/v1/evaluate/flags/ofrep-1", "{not json");
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ key: "ofrep-1", errorCode: "PARSE_ERROR" });
    expect((await post("/ofrep/v1/evaluate/flags/ofrep-1", "[]")).status).toBe(400);

    const bulkBody = JSON.stringify({ context: { targetingKey: "acct-2", country: "DE" } });
    const bulk = await post("/ofrep/v1/evaluate/flags", bulkBody);
    expect(bulk.status).toBe(200);
    const etag = bulk.headers.get("etag");
    expect(etag).toMatch(/^"/);
    const flags = ((await bulk.json()) as { flags: { key: string; variant: string }[] }).flags;
    expect(flags.map((f) => f.key).sort()).toEqual(["checkout", "ofrep-1"]);
    expect(flags.every((f) => f.variant === want.cohort)).toBe(true);
    const again = await post("/ofrep/v1/evaluate/flags", bulkBody, { "if-none-match": etag ?? "" });
    expect(again.status).toBe(304);
    // Another unit's answer differs in its tag; a missing targetingKey is the bulk failure shape.
    const other = await post(
      "/ofrep/v1/evaluate/flags",
      JSON.stringify({ context: { targetingKey: "acct-3", country: "US" } }),
      {
        "if-none-match": etag ?? "",
      },
    );
    expect(other.status).toBe(200);
    const noKey = await post("/ofrep/v1/evaluate/flags", JSON.stringify({ context: {} }));
    expect(noKey.status).toBe(400);
    expect(await noKey.json()).toMatchObject({ errorCode: "TARGETING_KEY_MISSING" });
    // A new percent changes the tag: the poller sees the move.
    promoteStep(serve.ctx, { deployment_id: "ofrep-1", override: { reason: "test: complete" } });
    const moved = await post("/ofrep/v1/evaluate/flags", bulkBody, { "if-none-match": etag ?? "" });
    expect(moved.status).toBe(200);
  });
});
