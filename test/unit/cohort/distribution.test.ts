import { beforeAll, describe, expect, it } from "vitest";
import { createAssigner } from "../../../mcp-server/cohort-assigner.js";
import { BUCKETS, type CohortAssigner } from "../../../mcp-server/core/cohort/index.js";

// Statistical checks on fixed id sets: deterministic, so a pass never flakes, and the critical
// values are at alpha = 0.001 so a correct hash passes with a wide berth.

const UNITS = 100_000;

let assigner: CohortAssigner;
beforeAll(async () => {
  assigner = await createAssigner();
});

/** Sequential ids are the worst case for weak hashes; UUID-like ids are the common case. */
function idFamilies(): Record<string, string[]> {
  let state = 0x2545f491;
  const nextHex = (): string => {
    // xorshift32: a fixed, dependency-free source of UUID-like ids.
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0).toString(16).padStart(8, "0");
  };
  const sequential: string[] = [];
  const uuids: string[] = [];
  for (let i = 0; i < UNITS; i++) {
    sequential.push(`user-${i}`);
    uuids.push(
      `${nextHex()}-${nextHex().slice(0, 4)}-4${nextHex().slice(0, 3)}-a${nextHex().slice(0, 3)}-${nextHex()}${nextHex().slice(0, 4)}`,
    );
  }
  return { sequential, uuids };
}

/** Chi-square quantile by the Wilson-Hilferty approximation (accurate to <0.1% at these df). */
function chiSquareQuantile(df: number, z: number): number {
  const a = 2 / (9 * df);
  return df * (1 - a + z * Math.sqrt(a)) ** 3;
}
const Z_0999 = 3.090232;

function chiSquare(counts: number[], expected: number): number {
  return counts.reduce((sum, c) => sum + (c - expected) ** 2 / expected, 0);
}

describe("bucket distribution", () => {
  const families = idFamilies();

  for (const [family, ids] of Object.entries(families)) {
    for (const deploymentId of ["checkout-2026-05-26.1", "search-v42"]) {
      it(`is uniform over ${BUCKETS} buckets and 100 groups (${family} ids, ${deploymentId})`, () => {
        const buckets = new Array<number>(BUCKETS).fill(0);
        const groups = new Array<number>(100).fill(0);
        for (const id of ids) {
          const bucket = assigner.bucket(deploymentId, id);
          buckets[bucket] = (buckets[bucket] ?? 0) + 1;
          const group = Math.floor(bucket / 100);
          groups[group] = (groups[group] ?? 0) + 1;
        }
        const fine = chiSquare(buckets, UNITS / BUCKETS);
        expect(fine).toBeLessThan(chiSquareQuantile(BUCKETS - 1, Z_0999));
        // Suspiciously even counts would mean the ids are mapped, not hashed.
        expect(fine).toBeGreaterThan(chiSquareQuantile(BUCKETS - 1, -Z_0999));
        expect(chiSquare(groups, UNITS / 100)).toBeLessThan(148.23); // chi2(99) at 0.999
      });
    }
  }

  it("makes the canary of two deployments independent (50% and 30%)", () => {
    const ids = families.uuids ?? [];
    const table = [
      [0, 0],
      [0, 0],
    ];
    for (const id of ids) {
      const a = assigner.assign({ deploymentId: "checkout-2026-05-26.1", unitId: id, percent: 50 });
      const b = assigner.assign({ deploymentId: "search-v42", unitId: id, percent: 30 });
      const row = table[a.cohort === "canary" ? 1 : 0];
      if (row) row[b.cohort === "canary" ? 1 : 0] = (row[b.cohort === "canary" ? 1 : 0] ?? 0) + 1;
    }
    const n = ids.length;
    const cell = (i: number, j: number): number => table[i]?.[j] ?? 0;
    const rowSum = (i: number): number => cell(i, 0) + cell(i, 1);
    const colSum = (j: number): number => cell(0, j) + cell(1, j);
    let statistic = 0;
    for (const i of [0, 1]) {
      for (const j of [0, 1]) {
        const expected = (rowSum(i) * colSum(j)) / n;
        statistic += (cell(i, j) - expected) ** 2 / expected;
      }
    }
    expect(statistic).toBeLessThan(10.828); // chi2(1) at 0.999
    // Joint canary share is the product of the marginals: 0.5 * 0.3 (sd of the estimate is 0.0011).
    expect(Math.abs(cell(1, 1) / n - 0.15)).toBeLessThan(0.005);
    expect(Math.abs(rowSum(1) / n - 0.5)).toBeLessThan(0.006);
    expect(Math.abs(colSum(1) / n - 0.3)).toBeLessThan(0.006);
  });
});
