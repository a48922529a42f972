import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TokenTable } from "../../mcp-server/http/tokens.js";
import { listTransitions } from "../../mcp-server/ledger/deployments.js";
import { promoteStep } from "../../mcp-server/operations/promote-step.js";
import { recordMetrics } from "../../mcp-server/operations/record-metrics.js";
import { startDeployment } from "../../mcp-server/operations/start-deployment.js";
import { tickDeployment } from "../../mcp-server/operations/tick.js";
import { MINUTE, T0 } from "../support/canary-sim.js";
import { tempDir } from "../support/cli.js";
import { basicPolicy } from "../support/policies.js";
import { serveInProcess } from "../support/serve-in-process.js";
import { trafficSlices } from "../support/service-traffic.js";

// Argo Rollouts cannot run here (it needs a Kubernetes cluster): these tests replay the request its
// `web` metric provider sends (metricproviders/webmetric: a GET of the templated URL with the
// template's headers, JSON body read whole with jsonPath "{$}") and check what its
// successCondition / failureCondition read. External-ladder mode is judged on the reported percent.

const OPERATOR = "tok-argo-operator-0123456789";
const VIEWER = "tok-argo-viewer-012345678901";
const tokens = [
  { token: Buffer.from(OPERATOR), actor: "argo-rollouts" },
  { token: Buffer.from(VIEWER), actor: "dashboard", role: "viewer" },
] as TokenTable;

const externalPolicy = (service: string) =>
  basicPolicy({
    service,
    ladder_owner: "external",
    ladder: [
      { percent: 10, window: "30m" },
      { percent: 25, window: "30m" },
      { percent: 50, window: "30m" },
      { percent: 100 },
    ],
  });

/** What Argo's web provider sends for `url: .../verdict?percent={{args.percent}}` with an Authorization header. */
function argoMeasurement(url: string, token = OPERATOR): Promise<Response> {
  return fetch(url, { method: "GET", headers: { Authorization: `Bearer ${token}` } });
}

const iso = (ms: number) => new Date(ms).toISOString();

interface Verdict {
  verdict: string;
  reason_codes: string[];
  percent: number;
  step: number;
  decision_id: number | null;
  evidence: {
    window: { from: string; to: string } | null;
    srm: { mismatch: boolean } | null;
    rows: unknown[];
  };
}

describe("Argo Rollouts web metric: GET /v1/deployments/{id}/verdict (replays Argo's documented request)", () => {
  let serve: Awaited<ReturnType<typeof serveInProcess>>;
  beforeAll(async () => {
    serve = await serveInProcess({ clock: "manual", tokens });
  });
  afterAll(async () => serve?.close());

  function feed(id: string, from: number, to: number, percent: number, canaryErrors = 0.01, seed = 1) {
    recordMetrics(serve.ctx, {
      deployment_id: id,
      slices: trafficSlices({
        from,
        to,
        rps: 400,
        percentAt: () => percent,
        behaviour: (_t, cohort) => ({ errorRate: cohort === "canary" ? canaryErrors : 0.01 }),
        seed,
      }),
    });
  }

  it("judges the steps the caller reports: window from the first report of a percent, promote after it, then the next percent", async () => {
    startDeployment(serve.ctx, { deployment_id: "argo-1", policy: externalPolicy("checkout"), at: iso(T0) });
    const url = (p: number, at: number) =>
      `${serve.base}/v1/deployments/argo-1/verdict?percent=${p}&at=${iso(at)}`;
    // Argo's setWeight: 20 comes first; the analysis step reports it.
    const first = await argoMeasurement(url(20, T0 + 2 * MINUTE));
    expect(first.status).toBe(200);
    const v1 = (await first.json()) as Verdict;
    expect(v1).toMatchObject({ deployment_id: "argo-1", verdict: "hold", percent: 20, step: 1 });
    expect(v1.reason_codes).toContain("window_open");
    expect(v1.decision_id).toBeTypeOf("number");
    feed("argo-1", T0 + 2 * MINUTE, T0 + 40 * MINUTE, 20);
    const later = await argoMeasurement(url(20, T0 + 40 * MINUTE));
    const v2 = (await later.json()) as Verdict;
    expect(v2.verdict).toBe("promote");
    expect(v2.percent).toBe(20);
    // The judged window starts when 20% was first reported, not when the deployment started.
    expect(Date.parse(v2.evidence.window?.from ?? "")).toBeGreaterThanOrEqual(T0 + 2 * MINUTE);
    expect(v2.evidence.srm?.mismatch).toBe(false);
    expect(v2.evidence.rows.length).toBeGreaterThan(0);
    // Asking again before the next check returns the same fresh decision.
    const again = (await (await argoMeasurement(url(20, T0 + 41 * MINUTE))).json()) as Verdict;
    expect(again.decision_id).toBe(v2.decision_id);
    // The controller moves to 40%: a new step with its own window, so it holds again.
    const moved = (await (await argoMeasurement(url(40, T0 + 42 * MINUTE))).json()) as Verdict;
    expect(moved).toMatchObject({ verdict: "hold", percent: 40, step: 2 });
    const reported = listTransitions(serve.ctx.ledger, "argo-1").filter((t) => t.kind === "promote");
    expect(reported.map((t) => [t.percent, t.at])).toEqual([
      [20, T0 + 2 * MINUTE],
      [40, T0 + 42 * MINUTE],
    ]);
    // canary-pilot does not move an external ladder itself: promote_step is refused, tick does not promote.
    expect(() => promoteStep(serve.ctx, { deployment_id: "argo-1", override: { reason: "try" } })).toThrow(
      /ladder_owner: external/,
    );
    feed("argo-1", T0 + 42 * MINUTE, T0 + 80 * MINUTE, 40, 0.01, 2);
    const ticked = tickDeployment(serve.ctx, "argo-1", iso(T0 + 80 * MINUTE));
    expect(ticked).toMatchObject({ verdict: "promote", action: "decided", percent: 40 });
  });

  it("checks the split against the reported percent: traffic at 10% reported as 40% holds on srm", async () => {
    startDeployment(serve.ctx, { deployment_id: "argo-2", policy: externalPolicy("search"), at: iso(T0) });
    await argoMeasurement(`${serve.base}/v1/deployments/argo-2/verdict?percent=40&at=${iso(T0 + MINUTE)}`);
    feed("argo-2", T0 + MINUTE, T0 + 40 * MINUTE, 10);
    const res = await argoMeasurement(
      `${serve.base}/v1/deployments/argo-2/verdict?percent=40&at=${iso(T0 + 40 * MINUTE)}`,
    );
    const v = (await res.json()) as Verdict;
    expect(v.verdict).toBe("hold");
    expect(v.reason_codes).toContain("srm");
    expect(v.evidence.srm?.mismatch).toBe(true);
  });

  it("answers rollback on a regression (Argo's failureCondition), and keeps answering rollback after it", async () => {
    startDeployment(serve.ctx, { deployment_id: "argo-3", policy: externalPolicy("cart"), at: iso(T0) });
    await argoMeasurement(`${serve.base}/v1/deployments/argo-3/verdict?percent=25&at=${iso(T0 + MINUTE)}`);
    feed("argo-3", T0 + MINUTE, T0 + 30 * MINUTE, 25, 0.05);
    const v = (await (
      await argoMeasurement(
        `${serve.base}/v1/deployments/argo-3/verdict?percent=25&at=${iso(T0 + 30 * MINUTE)}`,
      )
    ).json()) as Verdict & { state: string };
    expect(v.verdict).toBe("rollback");
    expect(v.reason_codes).toContain("regression");
    expect(v.state).toBe("rolled_back");
    const after = (await (
      await argoMeasurement(`${serve.base}/v1/deployments/argo-3/verdict?at=${iso(T0 + 31 * MINUTE)}`)
    ).json()) as Verdict;
    expect(after.verdict).toBe("rollback");
  });

  it("gives the right errors: unknown deployment 404, bad percent 400, viewer reporting a percent 403, no token 401", async () => {
    const unknown = await argoMeasurement(`${serve.base}/v1/deployments/nope-1/verdict?at=${iso(T0)}`);
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ error: { field: "deployment_id" } });
    startDeployment(serve.ctx, { deployment_id: "argo-4", policy: externalPolicy("profile"), at: iso(T0) });
    for (const bad of ["abc", "0", "100", "12.345", "-3"]) {
      const r = await argoMeasurement(
        `${serve.base}/v1/deployments/argo-4/verdict?percent=${bad}&at=${iso(T0 + MINUTE)}`,
      );
      expect(r.status, bad).toBe(400);
      expect(await r.json()).toMatchObject({ error: { field: "percent" } });
    }
    const viewer = await argoMeasurement(
      `${serve.base}/v1/deployments/argo-4/verdict?percent=20&at=${iso(T0 + MINUTE)}`,
      VIEWER,
    );
    expect(viewer.status).toBe(403);
    expect(((await viewer.json()) as { error: { message: string } }).error.message).toMatch(/viewer/);
    const viewerRead = await argoMeasurement(
      `${serve.base}/v1/deployments/argo-4/verdict?at=${iso(T0 + MINUTE)}`,
      VIEWER,
    );
    expect(viewerRead.status).toBe(200);
    const anonymous = await fetch(`${serve.base}/v1/deployments/argo-4/verdict?at=${iso(T0 + MINUTE)}`);
    expect(anonymous.status).toBe(401);
    // Nothing was recorded by the refused reports.
    expect(listTransitions(serve.ctx.ledger, "argo-4").filter((t) => t.kind === "promote")).toEqual([]);
    // A ladder canary-pilot runs takes no foreign percent.
    startDeployment(serve.ctx, {
      deployment_id: "own-1",
      policy: basicPolicy({ service: "own" }),
      at: iso(T0),
    });
    const foreign = await argoMeasurement(
      `${serve.base}/v1/deployments/own-1/verdict?percent=30&at=${iso(T0 + MINUTE)}`,
    );
    expect(foreign.status).toBe(409);
    expect(await foreign.json()).toMatchObject({ error: { field: "ladder_owner" } });
  });
});

/** A --policies directory holding these policies. */
function policiesWith(files: Record<string, unknown>): string {
  const dir = tempDir();
  for (const [name, policy] of Object.entries(files)) writeFileSync(join(dir, name), JSON.stringify(policy));
  return dir;
}

describe("Argo Rollouts pre-step: POST /v1/deployments registers the revision (replays Argo's web metric POST)", () => {
  let serve: Awaited<ReturnType<typeof serveInProcess>>;
  beforeAll(async () => {
    serve = await serveInProcess({
      clock: "manual",
      tokens,
      policiesDir: policiesWith({ "checkout.json": externalPolicy("checkout") }),
    });
  });
  afterAll(async () => serve?.close());

  // Argo's web provider with method POST sends the template's body string and headers as given.
  const register = (body: unknown, token = OPERATOR) =>
    fetch(`${serve.base}/v1/deployments`, {
      method: "POST",
      headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });

  it("starts once (201), answers a re-run of the step as a safe repeat (200, moved: false), and refuses a changed revision", async () => {
    const body = {
      deployment_id: "checkout-6c9bd8675b",
      policy: "checkout.json",
      version: "6c9bd8675b",
      at: iso(T0),
    };
    const first = await register(body);
    expect(first.status).toBe(201);
    expect(await first.json()).toMatchObject({
      deployment_id: "checkout-6c9bd8675b",
      state: "canary",
      moved: true,
    });
    const again = await register(body);
    expect(again.status).toBe(200);
    expect(await again.json()).toMatchObject({ state: "canary", moved: false });
    const changed = await register({ ...body, version: "other" });
    expect(changed.status).toBe(409);
  });

  it("refuses viewers (403), anonymous callers (401), bad bodies and paths outside --policies (400)", async () => {
    expect((await register({ deployment_id: "x-1", policy: "checkout.json" }, VIEWER)).status).toBe(403);
    const anon = await fetch(`${serve.base}/v1/deployments`, { method: "POST", body: "{}" });
    expect(anon.status).toBe(401);
    const missing = await register({ policy: "checkout.json" });
    expect(missing.status).toBe(400);
    expect(await missing.json()).toMatchObject({ error: { field: "deployment_id" } });
    for (const hostile of ["../checkout.json", "/etc/passwd"]) {
      const r = await register({ deployment_id: "x-2", policy: hostile, at: iso(T0) });
      expect(r.status, hostile).toBe(400);
      expect(await r.json()).toMatchObject({ error: { field: "policy" } });
    }
  });
});
