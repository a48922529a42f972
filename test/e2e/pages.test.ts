import { mkdirSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { History } from "../../mcp-server/core/history.js";
import { allowedHosts } from "../../mcp-server/http/hosts.js";
import { createHttpServer } from "../../mcp-server/http/server.js";
import type { OperationContext } from "../../mcp-server/operations/context.js";
import { policyDirectory } from "../../mcp-server/operations/policy-files.js";
import { REPO } from "../support/cli.js";
import { COMPLETED, pageFixtures, ROLLED_BACK, RUNNING } from "../support/page-fixtures.js";

// The deployment pages in real Chromium against a real server on a real ledger: no console
// errors, plotted points equal the history JSON, stale and overdue labels when due. Screenshots
// at desktop and phone widths go to test-artifacts/pages (gitignored; CI keeps them).

const CHROMIUM = "/usr/bin/chromium";
const SHOTS = join(REPO, "test-artifacts", "pages");

describe("deployment pages (real server, real ledger, real Chromium)", () => {
  let ctx: OperationContext;
  let server: ReturnType<typeof createHttpServer>;
  let base: string;
  let browser: Browser;

  beforeAll(async () => {
    ({ ctx } = await pageFixtures());
    server = createHttpServer({
      ctx,
      tokens: [],
      allowedHosts: allowedHosts("127.0.0.1"),
      policyFiles: policyDirectory(undefined),
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
      ],
    });
    mkdirSync(SHOTS, { recursive: true });
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await new Promise<void>((resolve) => server?.close(() => resolve()));
    ctx?.ledger.close();
  });

  async function open(path: string, width: number): Promise<{ page: Page; errors: string[] }> {
    const page = await browser.newPage({ viewport: { width, height: 900 } });
    const errors: string[] = [];
    page.on("console", (m) => {
      if (m.type() === "error") errors.push(m.text());
    });
    page.on("pageerror", (e) => errors.push(e.message));
    const res = await page.goto(`${base}${path}`);
    expect(res?.status()).toBe(200);
    return { page, errors };
  }

  async function history(id: string): Promise<History> {
    const res = await fetch(`${base}/v1/deployments/${id}/history`);
    expect(res.status).toBe(200);
    return (await res.json()) as History;
  }

  /** Each plotted point of a chart series, as the SVG carries it. */
  async function plotted(
    page: Page,
    chart: string,
    series: string,
  ): Promise<{ at: string; value: number }[]> {
    return page.locator(`[data-chart="${chart}"] circle[data-series="${series}"]`).evaluateAll((els) =>
      els.map((e) => ({
        at: e.getAttribute("data-at") ?? "",
        value: Number(e.getAttribute("data-value")),
      })),
    );
  }

  for (const [id, name] of [
    [RUNNING, "running"],
    [COMPLETED, "completed"],
    [ROLLED_BACK, "rolled-back"],
  ] as const) {
    it(`shows the ${name} deployment: charts equal the history JSON, no console errors`, async () => {
      const h = await history(id);
      expect(h.decisions.length).toBeGreaterThan(1);
      for (const width of [1280, 390]) {
        const { page, errors } = await open(`/deployments/${id}`, width);
        expect(await page.title()).toBe(`${id} - canary-pilot`);
        // Timeline: one marker per decision, coloured by its verdict, its reasons in the title.
        const markers = await page
          .locator('[data-chart="timeline"] circle[data-decision]')
          .evaluateAll((els) =>
            els.map((e) => ({
              id: Number(e.getAttribute("data-decision")),
              verdict: e.getAttribute("data-verdict"),
              title: e.querySelector("title")?.textContent ?? "",
            })),
          );
        expect(markers.map((m) => [m.id, m.verdict])).toEqual(
          h.decisions.map((d) => [d.decision_id, d.verdict]),
        );
        expect(markers[0]?.title).toContain(h.decisions[0]?.reasons[0]);
        expect(await page.locator('[data-chart="timeline"] [data-step]').count()).toBe(h.steps.length);
        // Per guardrail: canary and control values, evidence and margin evidence, point for point.
        expect(h.metrics.map((m) => m.metric)).toEqual(["checkout_error_rate", "checkout_latency"]);
        for (const [i, m] of h.metrics.entries()) {
          const withValues = m.points.filter((p) => p.canary !== null && p.control !== null);
          expect(await plotted(page, `values-${i}`, "canary")).toEqual(
            withValues.map((p) => ({ at: p.at, value: p.canary })),
          );
          expect(await plotted(page, `values-${i}`, "control")).toEqual(
            withValues.map((p) => ({ at: p.at, value: p.control })),
          );
          expect(await plotted(page, `evidence-${i}`, "evidence of harm (rollback at threshold)")).toEqual(
            m.points.map((p) => ({ at: p.at, value: p.evidence })),
          );
          expect(await plotted(page, `evidence-${i}`, "margin evidence (promotion at threshold)")).toEqual(
            m.points.map((p) => ({ at: p.at, value: p.margin_evidence })),
          );
          const threshold = await page
            .locator(`[data-chart="evidence-${i}"] line[data-line="threshold"]`)
            .getAttribute("data-value");
          expect(Number(threshold)).toBe(m.points.at(-1)?.threshold);
        }
        expect(await plotted(page, "split", "observed canary share")).toEqual(
          h.split
            .filter((s) => s.observed_share !== null)
            .map((s) => ({ at: s.at, value: s.observed_share })),
        );
        // Every chart has a text alternative.
        const charts = page.locator("figure.chart svg");
        expect(await charts.count()).toBe(2 + 2 * h.metrics.length);
        for (const desc of await charts.locator("desc").allTextContents())
          expect(desc.length).toBeGreaterThan(20);
        await page.screenshot({ path: join(SHOTS, `${name}-${width}.png`), fullPage: true });
        await page.emulateMedia({ colorScheme: "dark" });
        if (width === 1280)
          await page.screenshot({ path: join(SHOTS, `${name}-${width}-dark.png`), fullPage: true });
        expect(errors).toEqual([]);
        await page.close();
      }
    });
  }

  it("labels the running deployment's decision stale and the look overdue; ended ones never", async () => {
    const { page } = await open(`/deployments/${RUNNING}`, 1280);
    expect(await page.locator('[data-label="stale"]').count()).toBe(1);
    expect(await page.locator('[data-label="overdue"]').count()).toBe(1);
    expect(await page.locator('[data-field="look"]').textContent()).toMatch(
      /decided on step 3 \(25%\), the deployment is now on step 4 \(50%\); a look is overdue/,
    );
    await page.close();
    for (const id of [COMPLETED, ROLLED_BACK]) {
      const ended = await open(`/deployments/${id}`, 1280);
      expect(await ended.page.locator("[data-label]").count()).toBe(0);
      await ended.page.close();
    }
  });

  it("shows the rollback's actor and reason, escaped", async () => {
    const { page } = await open(`/deployments/${ROLLED_BACK}`, 1280);
    expect(await page.locator('[data-field="rollback"]').textContent()).toContain(
      "oncall <sre@example.com> at 2026-05-26T",
    );
    expect(await page.locator('[data-field="rollback"]').textContent()).toContain(
      "errors <script>alert(1)</script> doubled",
    );
    expect(await page.locator("script").count()).toBe(0);
    expect(
      await page.locator('[data-chart="timeline"] [data-action="rollback"] title').textContent(),
    ).toContain("oncall <sre@example.com>");
    await page.close();
  });

  it("lists every deployment with a link to its page, labels and pages", async () => {
    const { page, errors } = await open("/", 1280);
    const ids = await page
      .locator("[data-deployment]")
      .evaluateAll((els) => els.map((e) => e.getAttribute("data-deployment")));
    expect(ids.sort()).toEqual([COMPLETED, ROLLED_BACK, RUNNING].sort());
    const running = page.locator(`[data-deployment="${RUNNING}"]`);
    expect(await running.locator('[data-label="stale"]').count()).toBe(1);
    expect(await running.locator('[data-label="overdue"]').count()).toBe(1);
    expect(await page.locator(`[data-deployment="${COMPLETED}"] [data-label]`).count()).toBe(0);
    await page.screenshot({ path: join(SHOTS, "list-1280.png"), fullPage: true });
    await running.locator("h2 a").click();
    await page.waitForURL(`${base}/deployments/${RUNNING}`);
    expect(await page.locator('[data-field="percent"]').textContent()).toBe("50%");
    expect(errors).toEqual([]);
    await page.close();

    const first = await open("/?per_page=2", 390);
    expect(await first.page.locator("[data-deployment]").count()).toBe(2);
    expect(await first.page.locator(".pager").first().textContent()).toContain("page 1 of 2");
    await first.page.screenshot({ path: join(SHOTS, "list-390.png"), fullPage: true });
    await first.page.locator('.pager a[data-page="2"]').first().click();
    await first.page.waitForURL(/page=2/);
    const second = await first.page
      .locator("[data-deployment]")
      .evaluateAll((els) => els.map((e) => e.getAttribute("data-deployment")));
    expect(second).toHaveLength(1);
    expect(ids).toContain(second[0]);
    expect(first.errors).toEqual([]);
    await first.page.close();
    const bad = await fetch(`${base}/?page=0`);
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { field: string } }).error.field).toBe("page");
    expect((await fetch(`${base}/?per_page=abc`)).status).toBe(400);
  });

  it("answers an unknown deployment with 404 and a bad id with 400", async () => {
    expect((await fetch(`${base}/deployments/nope`)).status).toBe(404);
    expect((await fetch(`${base}/v1/deployments/nope/history`)).status).toBe(404);
    expect((await fetch(`${base}/deployments/${encodeURIComponent("<x>")}`)).status).toBe(400);
    expect((await fetch(`${base}/v1/deployments/${encodeURIComponent("<x>")}/history`)).status).toBe(400);
  });
});
