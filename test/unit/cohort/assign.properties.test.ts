import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { createAssigner, loadXxh32 } from "../../../mcp-server/cohort-assigner.js";
import {
  BUCKETS,
  bucketOf,
  type CohortAssigner,
  createCohortAssigner,
  normalizeUnitId,
  type Xxh32,
} from "../../../mcp-server/core/cohort/index.js";
import { NOT_PRINTABLE_ASCII, xxh32PrintableAscii } from "../../../mcp-server/core/cohort/xxh32Ascii.js";

let assigner: CohortAssigner;
let h32: Xxh32;
beforeAll(async () => {
  assigner = await createAssigner();
  h32 = await loadXxh32();
});

const isValidUnitId = (id: string): boolean => {
  try {
    normalizeUnitId(id);
    return true;
  } catch {
    return false;
  }
};

// Any text a router might see: ASCII, full Unicode graphemes (combining marks, emoji, CJK, RTL).
const unitIdArb = fc
  .oneof(
    fc.string({ unit: "grapheme-ascii", minLength: 1, maxLength: 40 }),
    fc.string({ unit: "grapheme", minLength: 1, maxLength: 20 }),
    fc.string({ unit: "grapheme-composite", minLength: 1, maxLength: 20 }),
    fc.uuid(),
  )
  .filter(isValidUnitId);
const deploymentIdArb = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,40}$/);
const basisPointsArb = fc.integer({ min: 0, max: BUCKETS });

describe("cohort assignment properties", () => {
  it("gives the same input the same bucket, in every assigner and the uncached path", async () => {
    const other = await createAssigner();
    fc.assert(
      fc.property(deploymentIdArb, unitIdArb, (deploymentId, unitId) => {
        const bucket = assigner.bucket(deploymentId, unitId);
        expect(bucket).toBeGreaterThanOrEqual(0);
        expect(bucket).toBeLessThan(BUCKETS);
        expect(Number.isInteger(bucket)).toBe(true);
        expect(assigner.bucket(deploymentId, unitId)).toBe(bucket);
        expect(other.bucket(deploymentId, unitId)).toBe(bucket);
        expect(bucketOf(h32, deploymentId, unitId)).toBe(bucket);
      }),
      { seed: 42, numRuns: 2000 },
    );
  });

  it("gives NFC and NFD forms of an id the same bucket", () => {
    fc.assert(
      fc.property(deploymentIdArb, unitIdArb, (deploymentId, unitId) => {
        const nfd = unitId.normalize("NFD");
        fc.pre(isValidUnitId(nfd));
        expect(assigner.bucket(deploymentId, nfd)).toBe(
          assigner.bucket(deploymentId, unitId.normalize("NFC")),
        );
        expect(assigner.bucket(deploymentId, unitId)).toBe(assigner.bucket(deploymentId, nfd));
      }),
      { seed: 42, numRuns: 2000 },
    );
  });

  it("normalises exactly as String.prototype.normalize('NFC'), shortcuts included", () => {
    // Code units from the ranges that skip `normalize`, mixed with what composes with them:
    // combining marks, Hangul jamo, kana voicing marks, and anything else in the BMP.
    const codeUnit = fc
      .oneof(
        fc.integer({ min: 0x20, max: 0x2ff }),
        fc.integer({ min: 0x300, max: 0x36f }),
        fc.integer({ min: 0x1100, max: 0x11ff }),
        fc.integer({ min: 0xac00, max: 0xd7a3 }),
        fc.integer({ min: 0x4e00, max: 0x9fff }),
        fc.integer({ min: 0x3099, max: 0x309a }),
        fc.integer({ min: 0x20, max: 0xffff }).filter((c) => c < 0xd800 || c > 0xdfff),
      )
      .map((c) => String.fromCharCode(c));
    fc.assert(
      fc.property(fc.string({ unit: codeUnit, minLength: 1, maxLength: 30 }), (text) => {
        fc.pre(isValidUnitId(text));
        expect(normalizeUnitId(text)).toBe(text.normalize("NFC"));
      }),
      { seed: 42, numRuns: 5000 },
    );
  });

  it("never drops a canary unit on the way up the ramp", () => {
    fc.assert(
      fc.property(
        deploymentIdArb,
        unitIdArb,
        basisPointsArb,
        basisPointsArb,
        (deploymentId, unitId, a, b) => {
          const [low, high] = a <= b ? [a / 100, b / 100] : [b / 100, a / 100];
          const atLow = assigner.assign({ deploymentId, unitId, percent: low });
          const atHigh = assigner.assign({ deploymentId, unitId, percent: high });
          expect(atLow.bucket).toBe(atHigh.bucket);
          if (atLow.cohort === "canary") expect(atHigh.cohort).toBe("canary");
          if (atHigh.cohort === "control") expect(atLow.cohort).toBe("control");
        },
      ),
      { seed: 42, numRuns: 3000 },
    );
  });

  it("puts nobody in the canary at 0% and everybody at 100%", () => {
    fc.assert(
      fc.property(deploymentIdArb, unitIdArb, (deploymentId, unitId) => {
        expect(assigner.assign({ deploymentId, unitId, percent: 0 }).cohort).toBe("control");
        expect(assigner.assign({ deploymentId, unitId, percent: 100 }).cohort).toBe("canary");
      }),
      { seed: 42, numRuns: 500 },
    );
  });

  it("echoes the percent exactly as basis points / 100, float noise removed", () => {
    const result = assigner.assign({ deploymentId: "d", unitId: "u", percent: 0.07 * 100 });
    expect(result.percent).toBe(7);
    expect(assigner.assign({ deploymentId: "d", unitId: "u", percent: 0.29 }).percent).toBe(0.29);
    expect(Object.is(assigner.assign({ deploymentId: "d", unitId: "u", percent: -0 }).percent, 0)).toBe(true);
  });

  it("hashes once per assignment once the deployment's seed is known, and survives eviction", () => {
    let calls = 0;
    const counting: Xxh32 = (input, seed) => {
      calls++;
      return h32(input, seed);
    };
    const small = createCohortAssigner(counting, { seedCacheSize: 2 });
    small.assign({ deploymentId: "dep-a", unitId: "warm", percent: 5 });
    calls = 0;
    // Printable ASCII ids are hashed in the validating pass; the injected XXH32 is not needed.
    for (let i = 0; i < 100; i++) small.assign({ deploymentId: "dep-a", unitId: `user-${i}`, percent: 5 });
    expect(calls).toBe(0);
    for (let i = 0; i < 100; i++) small.assign({ deploymentId: "dep-a", unitId: `usér-${i}`, percent: 5 });
    expect(calls).toBe(100);
    for (let i = 0; i < 50; i++) {
      const deploymentId = `dep-${i % 5}`;
      expect(small.bucket(deploymentId, `u${i}`)).toBe(assigner.bucket(deploymentId, `u${i}`));
      expect(small.bucket(deploymentId, `ü${i}`)).toBe(assigner.bucket(deploymentId, `ü${i}`));
    }
  });
});

describe("printable-ASCII XXH32 fast path", () => {
  const printable = fc.string({
    unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
    maxLength: 600,
  });
  const seedArb = fc.integer({ min: 0, max: 0xffffffff });

  it("equals XXH32 over the UTF-8 bytes for every length and seed", () => {
    fc.assert(
      fc.property(printable, seedArb, (text, seed) => {
        expect(xxh32PrintableAscii(text, seed)).toBe(h32(text, seed));
      }),
      { seed: 42, numRuns: 3000 },
    );
  });

  it("declines any text with a code unit outside 0x20..0x7E, wherever it is", () => {
    const outside = fc.oneof(
      fc.integer({ min: 0, max: 0x1f }),
      fc.constant(0x7f),
      fc.integer({ min: 0x80, max: 0xffff }),
    );
    fc.assert(
      fc.property(printable, outside, fc.nat(), seedArb, (text, code, at, seed) => {
        const position = text.length === 0 ? 0 : at % (text.length + 1);
        const dirty = `${text.slice(0, position)}${String.fromCharCode(code)}${text.slice(position)}`;
        expect(xxh32PrintableAscii(dirty, seed)).toBe(NOT_PRINTABLE_ASCII);
      }),
      { seed: 42, numRuns: 3000 },
    );
  });
});
