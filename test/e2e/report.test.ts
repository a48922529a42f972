import { mkdirSync, readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { basename, dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { type Browser, chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPO, runCli, tempDir } from "../support/cli.js";
import { COMPLETED, pageFixtures, ROLLED_BACK, RUNNING } from "../support/page-fixtures.js";

// Reports for CI and chat, through the built CLI on a real ledger: the Markdown report's Mermaid
// blocks render with the real mermaid package inside Chromium (a syntax error fails here), and
// `canary report --html` writes a page that opens from a file with nothing to fetch.

const MERMAID = createRequire(import.meta.url).resolve("mermaid/dist/mermaid.min.js");
const SHOTS = join(REPO, "test-artifacts", "pages");

function mermaidBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/```mermaid\n([\s\S]*?)\n```/g)].map((m) => m[1] ?? "");
}

describe("reports for CI and chat (built CLI, real ledger, real mermaid in Chromium)", () => {
  let ledger: string;
  let browser: Browser;
  const env = { CANARY_CLOCK: "manual" };

  beforeAll(async () => {
    const fixtures = await pageFixtures();
    ledger = fixtures.path;
    fixtures.ctx.ledger.close();
    browser = await chromium.launch({
      executablePath: "/usr/bin/chromium",
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
  });

  /** Renders each block with mermaid; resolves to the SVGs' line counts, rejects on a syntax error. */
  async function render(blocks: string[]): Promise<number[]> {
    const page = await browser.newPage();
    try {
      await page.setContent("<!doctype html><html><body></body></html>");
      await page.addScriptTag({ path: MERMAID });
      return await page.evaluate(async (codes) => {
        const m = (
          globalThis as unknown as {
            mermaid: {
              initialize(o: object): void;
              render(id: string, code: string): Promise<{ svg: string }>;
            };
          }
        ).mermaid;
        m.initialize({ startOnLoad: false });
        const lines: number[] = [];
        for (const [i, code] of codes.entries()) {
          const { svg } = await m.render(`chart${i}`, code);
          lines.push((svg.match(/class="line-plot-\d+"/g) ?? []).length);
        }
        return lines;
      }, blocks);
    } finally {
      await page.close();
    }
  }

  it("`canary compare --format md` carries Mermaid charts that the real mermaid renders", async () => {
    const all: string[] = [];
    for (const id of [RUNNING, COMPLETED, ROLLED_BACK]) {
      const r = runCli(["compare", id, "--format", "md", "--ledger", ledger], { env });
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      const blocks = mermaidBlocks(r.stdout);
      // Two guardrails, each with an evidence chart and a values chart.
      expect(blocks).toHaveLength(4);
      expect(blocks[0]).toMatch(/^xychart-beta\n {2}title "checkout_error_rate rate: log10 evidence/);
      all.push(...blocks);
    }
    // Evidence charts draw three lines (harm, margin, threshold), value charts two.
    expect(await render(all)).toEqual([3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2]);
    expect(runCli(["compare", RUNNING, "--format", "html", "--ledger", ledger], { env }).code).toBe(2);
  });

  it("a broken Mermaid block fails the render (the check above can fail)", async () => {
    await expect(render(["xychart-beta\n  line [1, 2,, 3"])).rejects.toThrow();
  });

  it("`canary report` prints the same Markdown and writes a self-contained HTML page", async () => {
    const dir = tempDir("canary-report-");
    const html = join(dir, "report.html");
    const md = runCli(["report", RUNNING, "--ledger", ledger], { env });
    expect(md.code).toBe(0);
    expect(mermaidBlocks(md.stdout)).toHaveLength(4);
    const mdFile = join(dir, "report.md");
    expect(runCli(["report", RUNNING, "--md", mdFile, "--ledger", ledger], { env }).code).toBe(0);
    expect(readFileSync(mdFile, "utf8")).toBe(md.stdout.slice(0, -1));
    const json = runCli(["report", RUNNING, "--json", "--ledger", ledger], { env });
    expect((JSON.parse(json.stdout) as { look: { stale: boolean } }).look.stale).toBe(true);
    const r = runCli(["report", ROLLED_BACK, "--html", html, "--ledger", ledger], { env });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("wrote ");
    const text = readFileSync(html, "utf8");
    expect(text).not.toMatch(/<script|<link rel="stylesheet"|src=|https?:\/\//);
    const page = await browser.newPage({ javaScriptEnabled: false });
    const requests: string[] = [];
    page.on("request", (q) => requests.push(q.url()));
    const errors: string[] = [];
    page.on("console", (m) => {
      if (m.type() === "error") errors.push(m.text());
    });
    await page.goto(pathToFileURL(html).href);
    expect(requests).toEqual([pathToFileURL(html).href]);
    expect(await page.locator('[data-field="rollback"]').textContent()).toContain("oncall <sre@example.com>");
    expect(await page.locator("figure.chart svg").count()).toBe(6);
    await page.screenshot({ path: join(SHOTS, "report-html-1280.png"), fullPage: true });
    expect(errors).toEqual([]);
    await page.close();
    // A path it cannot write names the flag and leaves nothing behind.
    const bad = runCli(["report", RUNNING, "--html", dir, "--ledger", ledger], { env });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("--html");
    expect(
      readdirSync(dirname(dir)).filter((f) => f.startsWith(basename(dir)) && f.endsWith(".tmp")),
    ).toEqual([]);
    expect(runCli(["report", "nope", "--ledger", ledger], { env }).code).toBe(2);
  });
});
