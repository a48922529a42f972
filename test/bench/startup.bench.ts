// Start-up cost of a CLI step in CI: `canary status ID --json` on a real ledger, against a bare
// `node -e 0` measured in the same run. Build first: `npm run build && npm run bench`.
//
// Method: the two commands run alternately (so load on a shared machine hits both alike), after a
// warm-up that fills the file cache; the medians and their ratio are reported.

import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const ROUNDS = 25;
const CLI = resolve(import.meta.dirname, "../../cli/main.js");

function timed(args: string[], env: NodeJS.ProcessEnv = process.env): number {
  const start = process.hrtime.bigint();
  const r = spawnSync(process.execPath, args, { env, encoding: "utf8" });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (r.status !== 0 && r.status !== 10) throw new Error(`${args.join(" ")} exited ${r.status}: ${r.stderr}`);
  return ms;
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? Number.NaN;
}

const dir = mkdtempSync(join(tmpdir(), "canary-startup-"));
const ledger = join(dir, "ledger.db");
const policy = join(dir, "policy.json");
writeFileSync(
  policy,
  JSON.stringify({
    service: "checkout",
    ladder: [{ percent: 1, window: "30m" }, { percent: 100 }],
    metrics: [
      {
        name: "error_rate",
        type: "ratio",
        events: "http_errors",
        trials: "http_requests",
        bad: "increase",
        tolerance: { relative: 0 },
        margin: { relative: 0.5 },
      },
    ],
  }),
);
timed([CLI, "start", "checkout-1", "--policy", policy, "--ledger", ledger]);

const bare: number[] = [];
const status: number[] = [];
const help: number[] = [];
for (let i = 0; i < ROUNDS + 3; i++) {
  const b = timed(["-e", "0"]);
  const s = timed([CLI, "status", "checkout-1", "--json", "--ledger", ledger]);
  const h = timed([CLI, "--help"]);
  if (i < 3) continue;
  bare.push(b);
  status.push(s);
  help.push(h);
}
const base = median(bare);
console.log("CLI start-up (median of %d alternating runs)", ROUNDS);
console.log(`  node -e 0                    ${base.toFixed(1)} ms`);
console.log(
  `  canary --help                ${median(help).toFixed(1)} ms  (${(median(help) / base).toFixed(2)}x)`,
);
console.log(
  `  canary status ID --json      ${median(status).toFixed(1)} ms  (${(median(status) / base).toFixed(2)}x node -e 0; target <= 2x)`,
);
