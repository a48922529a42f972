// Cost of one cohort assignment, next to a raw XXH32 call and to the bucketing of four widely used
// feature-flag SDKs (faithful re-implementations in ./peers). Build first: `npm run build && npm run bench`.
//
// Method: every contender decides "is this unit in a 5% rollout" for the same pre-generated ids;
// after a warm-up, each round times every contender over all ids (in rotating order, so drift and
// GC pauses do not always hit the same one), and the median round is reported.
//
// The ids are parsed from JSON, as a router receives them (request bodies, headers, query strings
// all give flat strings). Ids glued together in-process (`${tenant}:${user}`) are V8 rope strings,
// on which every charCodeAt takes an extra indirection; a second, smaller run reports that case.

import xxhash from "xxhash-wasm";
import { createAssigner } from "../../mcp-server/cohort-assigner.js";
import { growthbookInRollout } from "./peers/growthbook.js";
import { launchdarklyInRollout } from "./peers/launchdarkly.js";
import { statsigPasses } from "./peers/statsig.js";
import { unleashInRollout } from "./peers/unleash.js";

const UNITS = 100_000;
const ROUNDS = 15;
const WARMUP_ROUNDS = 3;
const DEPLOYMENT = "checkout-2026-05-26.1";
const PERCENT = 5;

interface Contender {
  name: string;
  /** Decides membership for every id; returns a count so the work cannot be optimised away. */
  run(ids: readonly string[]): number;
}

/** UUID-like ids built by concatenation (rope strings in V8). */
function concatenatedIds(count: number): string[] {
  let state = 0x9e3779b9;
  const hex8 = (): string => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0).toString(16).padStart(8, "0");
  };
  return Array.from({ length: count }, () => {
    const a = hex8();
    const b = hex8();
    const c = hex8();
    const d = hex8();
    return `${a}-${b.slice(0, 4)}-4${b.slice(5)}-a${c.slice(1, 4)}-${c.slice(4)}${d}`;
  });
}

/** The same ids as a router sees them: parsed from a request. */
function parsedIds(count: number): string[] {
  return JSON.parse(JSON.stringify(concatenatedIds(count))) as string[];
}

async function contenders(): Promise<Contender[]> {
  const assigner = await createAssigner();
  const { h32 } = await xxhash();
  const seed = h32(DEPLOYMENT, 0);
  const threshold = Math.round(PERCENT * 100);
  return [
    {
      name: "canary-pilot assign()",
      run(ids) {
        let canary = 0;
        for (const id of ids) {
          if (assigner.assign({ deploymentId: DEPLOYMENT, unitId: id, percent: PERCENT }).cohort === "canary")
            canary++;
        }
        return canary;
      },
    },
    {
      name: "raw xxhash-wasm h32",
      run(ids) {
        let canary = 0;
        for (const id of ids) if (h32(id, seed) % 10000 < threshold) canary++;
        return canary;
      },
    },
    {
      name: "GrowthBook (FNV-1a v2)",
      run(ids) {
        let canary = 0;
        for (const id of ids) if (growthbookInRollout(DEPLOYMENT, id, PERCENT / 100)) canary++;
        return canary;
      },
    },
    {
      name: "Unleash (murmur3)",
      run(ids) {
        let canary = 0;
        for (const id of ids) if (unleashInRollout(DEPLOYMENT, id, PERCENT)) canary++;
        return canary;
      },
    },
    {
      name: "LaunchDarkly (SHA-1)",
      run(ids) {
        let canary = 0;
        for (const id of ids) if (launchdarklyInRollout(DEPLOYMENT, "salt", id, PERCENT / 100)) canary++;
        return canary;
      },
    },
    {
      name: "Statsig (SHA-256)",
      run(ids) {
        let canary = 0;
        for (const id of ids) if (statsigPasses("salt", id, PERCENT)) canary++;
        return canary;
      },
    },
  ];
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

let sink = 0;

/** Median ns per decision of each contender over `ids`. */
function measure(all: readonly Contender[], ids: readonly string[], rounds: number): Map<string, number> {
  const samples = new Map<string, number[]>(all.map((c) => [c.name, []]));
  for (let round = 0; round < WARMUP_ROUNDS + rounds; round++) {
    for (let k = 0; k < all.length; k++) {
      const contender = all[(k + round) % all.length];
      if (!contender) continue;
      const start = process.hrtime.bigint();
      sink += contender.run(ids);
      const elapsed = Number(process.hrtime.bigint() - start);
      if (round >= WARMUP_ROUNDS) samples.get(contender.name)?.push(elapsed / ids.length);
    }
  }
  return new Map([...samples].map(([name, values]) => [name, median(values)]));
}

async function main(): Promise<void> {
  const all = await contenders();
  const nsPerOp = measure(all, parsedIds(UNITS), ROUNDS);
  const ours = nsPerOp.get("canary-pilot assign()") ?? Number.NaN;
  const raw = nsPerOp.get("raw xxhash-wasm h32") ?? Number.NaN;
  const growthbook = nsPerOp.get("GrowthBook (FNV-1a v2)") ?? Number.NaN;

  console.log(
    `cohort assignment: ${UNITS} UUID-like ids parsed from JSON, median of ${ROUNDS} rounds after ${WARMUP_ROUNDS} warm-up, Node ${process.version}`,
  );
  console.log(`${"contender".padEnd(26)}${"ns/op".padStart(10)}${"vs ours".padStart(12)}`);
  for (const [name, ns] of nsPerOp) {
    console.log(
      `${name.padEnd(26)}${ns.toFixed(1).padStart(10)}${`${(ns / ours).toFixed(2)}x`.padStart(12)}`,
    );
  }
  const overhead = ours / raw;
  const speedup = growthbook / ours;
  console.log(
    `ours / raw XXH32 = ${overhead.toFixed(2)}x (target <= 1.3: ${overhead <= 1.3 ? "met" : "MISSED"}); ` +
      `GrowthBook / ours = ${speedup.toFixed(2)}x (target >= 4: ${speedup >= 4 ? "met" : "MISSED"})`,
  );

  const ropes = measure(
    all.filter((c) => c.name === "canary-pilot assign()" || c.name === "raw xxhash-wasm h32"),
    concatenatedIds(UNITS),
    ROUNDS,
  );
  const oursOnRopes = ropes.get("canary-pilot assign()") ?? Number.NaN;
  const rawOnRopes = ropes.get("raw xxhash-wasm h32") ?? Number.NaN;
  console.log(
    `ids concatenated in-process (rope strings): ours ${oursOnRopes.toFixed(1)} ns/op, raw ${rawOnRopes.toFixed(1)} ns/op, ` +
      `ours / raw = ${(oursOnRopes / rawOnRopes).toFixed(2)}x`,
  );

  // Non-ASCII ids take the general path: validation, NFC normalisation, then XXH32 over UTF-8.
  const unicode = measure(
    all.filter((c) => c.name === "canary-pilot assign()" || c.name === "raw xxhash-wasm h32"),
    JSON.parse(
      JSON.stringify(
        parsedIds(UNITS / 10).map((id, i) => `${["José", "Zoë", "用户", "مستخدم"][i % 4]}-${id}`),
      ),
    ),
    ROUNDS,
  );
  const oursOnUnicode = unicode.get("canary-pilot assign()") ?? Number.NaN;
  const rawOnUnicode = unicode.get("raw xxhash-wasm h32") ?? Number.NaN;
  console.log(
    `non-ASCII ids (general path, NFC normalisation): ours ${oursOnUnicode.toFixed(1)} ns/op, raw ${rawOnUnicode.toFixed(1)} ns/op, ` +
      `ours / raw = ${(oursOnUnicode / rawOnUnicode).toFixed(2)}x`,
  );
  // Printed so the loops' results are observably used.
  if (sink < 0) console.log(sink);
}

await main();
