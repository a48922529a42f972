import { join } from "node:path";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tempDir } from "../support/cli.js";
import { call, connectCanary, errorText } from "../support/mcp-client.js";
import { basicPolicy } from "../support/policies.js";

const EXPECTED_TOOLS = [
  "start_deployment",
  "assign_cohort",
  "deployment_status",
  "audit_log",
  "validate_policy",
];

describe("canary mcp over stdio (real SDK client, built binary)", () => {
  let client: Client;
  const dir = tempDir();

  beforeAll(async () => {
    client = await connectCanary({ ledger: join(dir, "ledger.db") });
  });
  afterAll(async () => {
    await client?.close();
  });

  it("identifies itself as the canary server and lists every tool with schemas and honest hints", async () => {
    expect(client.getServerVersion()?.name).toBe("canary");
    const { tools } = await client.listTools();
    const names = tools.map((t) => t.name);
    for (const name of EXPECTED_TOOLS) expect(names).toContain(name);
    for (const tool of tools) {
      expect(tool.inputSchema.type).toBe("object");
      expect(tool.outputSchema?.type).toBe("object");
      expect(tool.description?.length ?? 0).toBeGreaterThan(20);
      const a = tool.annotations;
      expect(a).toBeDefined();
      for (const hint of ["readOnlyHint", "destructiveHint", "idempotentHint", "openWorldHint"] as const) {
        expect(typeof a?.[hint]).toBe("boolean");
      }
      if (a?.readOnlyHint) expect(a.destructiveHint).toBe(false);
    }
    const readOnly = tools.filter((t) => t.annotations?.readOnlyHint).map((t) => t.name);
    expect(readOnly).toEqual(
      expect.arrayContaining(["assign_cohort", "deployment_status", "audit_log", "validate_policy"]),
    );
    expect(readOnly).not.toContain("start_deployment");
  });

  it("starts a deployment and reports it through status, assignment and the audit log", async () => {
    const started = await call(client, "start_deployment", {
      deployment_id: "checkout-1",
      policy: basicPolicy(),
      author: "dev@example.com",
      version: "v2",
    });
    expect(started.isError).toBeFalsy();
    expect(started.structuredContent).toMatchObject({
      deployment_id: "checkout-1",
      state: "canary",
      step: 0,
      percent: 1,
    });
    // The text content carries the same JSON.
    const first = started.content[0];
    expect(first?.type === "text" && JSON.parse(first.text)).toEqual(started.structuredContent);

    const status = await call(client, "deployment_status", { deployment_id: "checkout-1" });
    expect(status.structuredContent).toMatchObject({
      state: "canary",
      step: 0,
      percent: 1,
      author: "dev@example.com",
    });
    expect((status.structuredContent as { ladder: unknown[] }).ladder).toHaveLength(3);

    const assigned = await call(client, "assign_cohort", { deployment_id: "checkout-1", unit_id: "user-42" });
    const a = assigned.structuredContent as { cohort: string; bucket: number; percent: number };
    expect(a.percent).toBe(1);
    expect(a.cohort).toBe(a.bucket < 100 ? "canary" : "control");
    const again = await call(client, "assign_cohort", { deployment_id: "checkout-1", unit_id: "user-42" });
    expect(again.structuredContent).toEqual(assigned.structuredContent);

    const audit = await call(client, "audit_log", { deployment_id: "checkout-1", verify: true });
    const log = audit.structuredContent as {
      entries: { action: string; actor: string }[];
      chain_ok: boolean;
      head: string;
    };
    expect(log.chain_ok).toBe(true);
    expect(log.entries.map((e) => e.action)).toEqual(["start"]);
    expect(log.entries[0]?.actor).toBe("tester@example.com");
    expect(log.head).toMatch(/^[0-9a-f]{64}$/);
  });

  it("validates policies and names every broken field", async () => {
    const ok = await call(client, "validate_policy", { policy: basicPolicy() });
    expect(ok.structuredContent).toMatchObject({ valid: true, errors: [] });
    const bad = await call(client, "validate_policy", {
      policy: basicPolicy({
        alpha: 2,
        ladder: [
          { percent: 5, window: "30m" },
          { percent: 1, window: "10m" },
        ],
        colour: "blue",
      }),
    });
    const out = bad.structuredContent as { valid: boolean; errors: { path: string; message: string }[] };
    expect(out.valid).toBe(false);
    const paths = out.errors.map((e) => e.path);
    expect(paths).toContain("alpha");
    expect(paths).toContain("colour");
    expect(out.errors.find((e) => e.path === "colour")?.message).toMatch(/unknown field/);
    const zeroTol = await call(client, "validate_policy", {
      policy: basicPolicy({
        metrics: [
          { name: "e", type: "ratio", events: "a", trials: "b", bad: "increase", tolerance: { relative: 0 } },
        ],
      }),
    });
    expect(JSON.stringify(zeroTol.structuredContent)).toMatch(/explicit margin/);
  });

  it("answers every bad call with isError naming the field, and keeps serving", async () => {
    const cases: [string, Record<string, unknown>, RegExp][] = [
      ["deployment_status", { deployment_id: "nope" }, /deployment_id.*no deployment/],
      ["deployment_status", { deployment_id: "bad id!" }, /deployment_id/],
      ["assign_cohort", { deployment_id: "checkout-1", unit_id: "" }, /unit_id/],
      ["assign_cohort", { deployment_id: "nope", unit_id: "u" }, /deployment_id/],
      ["audit_log", { deployment_id: "nope" }, /deployment_id/],
      ["audit_log", { verify: true, head: "xyz" }, /head/],
      [
        "start_deployment",
        { deployment_id: "checkout-2", policy: { service: "x" } },
        /policy\.(ladder|metrics)/,
      ],
      [
        "start_deployment",
        { deployment_id: "checkout-2", policy: "/definitely/not/here.yaml" },
        /policy.*cannot read/,
      ],
      [
        "start_deployment",
        { deployment_id: "checkout-1", policy: basicPolicy({ service: "search" }) },
        /deployment_exists/,
      ],
      ["start_deployment", { deployment_id: "checkout-3", policy: basicPolicy() }, /one_active_per_service/],
      [
        "start_deployment",
        { deployment_id: "search-1", policy: basicPolicy({ service: "search" }), at: "2026-01-01T00:00:00Z" },
        /at.*manual clock/,
      ],
      ["start_deployment", { policy: basicPolicy() }, /deployment_id/],
    ];
    for (const [tool, args, pattern] of cases) {
      const r = await call(client, tool, args);
      expect(r.isError, `${tool} ${JSON.stringify(args)}`).toBe(true);
      expect(errorText(r)).toMatch(pattern);
    }
    // Nothing was half-written by the refusals.
    const list = await call(client, "list_deployments", {});
    expect((list.structuredContent as { deployments: unknown[] }).deployments).toHaveLength(1);
    const audit = await call(client, "audit_log", { verify: true });
    expect(audit.structuredContent).toMatchObject({ chain_ok: true });
    expect((audit.structuredContent as { entries: unknown[] }).entries).toHaveLength(1);
  });
});
