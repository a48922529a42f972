import { describe, expect, it } from "vitest";
import { InvalidInputError, type RefusedError } from "../../../mcp-server/core/errors.js";
import { auditHead, listAudit } from "../../../mcp-server/ledger/audit.js";
import { getDeployment, listTransitions } from "../../../mcp-server/ledger/deployments.js";
import { pendingMessages } from "../../../mcp-server/ledger/outbox.js";
import { getDeploymentVars } from "../../../mcp-server/ledger/source.js";
import { startDeployment } from "../../../mcp-server/operations/start-deployment.js";
import { busyPolicy, iso, operationsContext, T0 } from "./harness.js";

const q = (extra = "") => `sum(increase(http_requests_total{cohort="{{cohort}}"${extra}}[{{slice}}]))`;

function withSource(series: Record<string, string>) {
  return busyPolicy({
    source: {
      prometheus: { url: "http://127.0.0.1:9" },
      series: { http_requests: q(), http_errors: q(), ...series },
    },
  });
}

function caught(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error("expected an error");
}

describe("start_deployment", () => {
  it("records the deployment, its start transition, an audit entry and the started notification", async () => {
    const ctx = await operationsContext();
    const out = startDeployment(ctx, {
      deployment_id: "d1",
      policy: busyPolicy({ notify: [{ type: "webhook", url_env: "HOOK" }] }),
      version: "v2",
      author: "dev@example.com",
      at: iso(T0),
    });
    expect(out).toEqual({
      deployment_id: "d1",
      state: "canary",
      step: 0,
      percent: 10,
      service: "checkout",
      policy_sha256: out.policy_sha256,
      started_at: iso(T0),
      audit_head: auditHead(ctx.ledger),
      moved: true,
      warnings: [],
    });
    expect(getDeployment(ctx.ledger, "d1")).toMatchObject({
      service: "checkout",
      version: "v2",
      author: "dev@example.com",
      state: "canary",
      step: 0,
      percent: 10,
      created_at: T0,
      step_started_at: T0,
      last_event_at: T0,
      ended_at: null,
      started_by: "test:operator",
    });
    expect(
      listTransitions(ctx.ledger, "d1").map((t) => [t.kind, t.from_step, t.to_step, t.percent, t.actor]),
    ).toEqual([["start", null, 0, 10, "test:operator"]]);
    const [entry] = listAudit(ctx.ledger, { deploymentId: "d1" });
    expect(entry).toMatchObject({ action: "start", actor: "test:operator", at: iso(T0) });
    expect(entry!.details).toEqual({
      service: "checkout",
      version: "v2",
      author: "dev@example.com",
      policy_sha256: out.policy_sha256,
      ladder: [10, 50, 100],
    });
    const [message] = pendingMessages(ctx.ledger, "d1");
    expect(message).toMatchObject({ event: "started", target: "notify[0]" });
    expect(message!.payload).toMatchObject({
      event: "started",
      deployment_id: "d1",
      service: "checkout",
      version: "v2",
      author: "dev@example.com",
      state: "canary",
      step: 0,
      percent: 10,
      at: iso(T0),
      actor: "test:operator",
      audit_head: out.audit_head,
      ladder: [10, 50, 100],
    });
  });

  it("a repeat with the same policy and version changes nothing; another version is refused", async () => {
    const ctx = await operationsContext();
    const first = startDeployment(ctx, {
      deployment_id: "d1",
      policy: busyPolicy(),
      version: "v2",
      at: iso(T0),
    });
    const again = startDeployment(ctx, {
      deployment_id: "d1",
      policy: busyPolicy(),
      version: "v2",
      at: iso(T0 + 60_000),
    });
    expect(again).toEqual({ ...first, moved: false });
    expect(listAudit(ctx.ledger, {})).toHaveLength(1);
    const other = caught(() =>
      startDeployment(ctx, { deployment_id: "d1", policy: busyPolicy(), version: "v3", at: iso(T0) }),
    ) as RefusedError;
    expect(other.rule).toBe("deployment_exists");
    expect(other.message).toMatch(/already exists with version "v2"; ids are never reused/);
    const noVersion = caught(() =>
      startDeployment(ctx, { deployment_id: "d1", policy: busyPolicy(), at: iso(T0) }),
    );
    expect((noVersion as RefusedError).rule).toBe("deployment_exists");
    const policy = caught(() =>
      startDeployment(ctx, {
        deployment_id: "d1",
        policy: busyPolicy({ check_every: "1m" }),
        version: "v2",
        at: iso(T0),
      }),
    ) as RefusedError;
    expect(policy.message).toMatch(
      new RegExp(`already exists with another policy \\(sha256 ${first.policy_sha256.slice(0, 12)}…\\)`),
    );
  });

  it("one active canary per service, naming the one in the way", async () => {
    const ctx = await operationsContext();
    startDeployment(ctx, { deployment_id: "d1", policy: busyPolicy(), at: iso(T0) });
    const e = caught(() =>
      startDeployment(ctx, { deployment_id: "d2", policy: busyPolicy(), at: iso(T0) }),
    ) as RefusedError;
    expect(e.rule).toBe("one_active_per_service");
    expect(e.message).toBe(
      "service checkout already has an active canary (d1); finish or roll it back first",
    );
  });

  it("a service that does not match the policy's is bad input; a matching one is fine", async () => {
    const ctx = await operationsContext();
    const e = caught(() =>
      startDeployment(ctx, { deployment_id: "d1", service: "payments", policy: busyPolicy(), at: iso(T0) }),
    ) as InvalidInputError;
    expect(e).toBeInstanceOf(InvalidInputError);
    expect(e.field).toBe("service");
    expect(e.message).toMatch(/service "payments" does not match the policy's service "checkout"/);
    expect(
      startDeployment(ctx, { deployment_id: "d1", service: "checkout", policy: busyPolicy(), at: iso(T0) })
        .moved,
    ).toBe(true);
  });

  it("every placeholder a source query uses needs a value, and the vars are kept", async () => {
    const ctx = await operationsContext();
    const policy = withSource({ http_errors: q(',version="{{version}}",region="{{vars.region}}"') });
    const version = caught(() =>
      startDeployment(ctx, { deployment_id: "d1", policy, vars: { region: "eu" }, at: iso(T0) }),
    );
    expect(version).toBeInstanceOf(InvalidInputError);
    expect((version as InvalidInputError).field).toBe("version");
    expect((version as Error).message).toBe(
      "source.series.http_errors uses {{version}}; pass the version being rolled out",
    );
    const region = caught(() =>
      startDeployment(ctx, { deployment_id: "d1", policy, version: "v2", vars: { zone: "a" }, at: iso(T0) }),
    );
    expect((region as InvalidInputError).field).toBe("vars.region");
    expect((region as Error).message).toBe(
      "source.series.http_errors uses {{vars.region}}; pass it in vars (canary start --var region=VALUE)",
    );
    startDeployment(ctx, { deployment_id: "d1", policy, version: "v2", vars: { region: "eu" }, at: iso(T0) });
    expect(getDeploymentVars(ctx.ledger, "d1")).toEqual({ region: "eu" });
  });

  it("the first call needs `at` on the manual clock", async () => {
    const ctx = await operationsContext();
    const e = caught(() =>
      startDeployment(ctx, { deployment_id: "d1", policy: busyPolicy() }),
    ) as InvalidInputError;
    expect(e.field).toBe("at");
    expect(e.message).toMatch(/needs `at`/);
  });
});
