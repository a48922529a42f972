import { beforeAll, describe, expect, it } from "vitest";
import { createAssigner } from "../../../mcp-server/cohort-assigner.js";
import {
  type CohortAssigner,
  MAX_UNIT_ID_BYTES,
  normalizeUnitId,
  percentToThreshold,
} from "../../../mcp-server/core/cohort/index.js";
import { InvalidInputError } from "../../../mcp-server/core/errors.js";

let assigner: CohortAssigner;
beforeAll(async () => {
  assigner = await createAssigner();
});

function invalidInput(run: () => unknown): InvalidInputError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidInputError);
    return error as InvalidInputError;
  }
  throw new Error("expected InvalidInputError, nothing was thrown");
}

describe("unit id validation", () => {
  const invalid: [string, unknown, RegExp][] = [
    ["empty", "", /must not be empty/],
    ["513 ASCII bytes", "x".repeat(513), /513 UTF-8 bytes.*limit is 512/],
    ["513 two-byte-character bytes", `${"é".repeat(256)}a`, /513 UTF-8 bytes; the limit is 512/],
    [
      "513 bytes in NFC (769 as given)",
      `${"e\u0301".repeat(256)}a`,
      /513 UTF-8 bytes after NFC normalisation/,
    ],
    ["NUL", "user\u00001", /control character U\+0000 at index 4/],
    ["tab", "a\tb", /control character U\+0009/],
    ["DEL", "abc\u007f", /control character U\+007F/],
    ["C1 control", "é\u0085", /control character U\+0085/],
    ["lone high surrogate", "a\ud800", /lone UTF-16 surrogate U\+D800 at index 1/],
    ["lone low surrogate", "\udc00b", /lone UTF-16 surrogate U\+DC00 at index 0/],
    ["swapped surrogates", "\ude00\ud83d", /lone UTF-16 surrogate/],
    ["huge", "é".repeat(100_000), /UTF-16 code units.*limit is 512/],
    ["number", 42, /must be a string, got number/],
    ["null", null, /must be a string, got null/],
  ];
  for (const [name, unitId, message] of invalid) {
    it(`refuses ${name}, naming unit_id`, () => {
      const error = invalidInput(() => assigner.bucket("dep", unitId as string));
      expect(error.field).toBe("unit_id");
      expect(error.message).toMatch(/^unit_id /);
      expect(error.message).toMatch(message);
      expect(
        invalidInput(() => assigner.assign({ deploymentId: "dep", unitId: unitId as string, percent: 5 }))
          .field,
      ).toBe("unit_id");
    });
  }

  it("accepts the limits: 512 bytes in any width, and an NFD form longer than that whose NFC fits", () => {
    for (const id of [
      "x".repeat(512),
      "é".repeat(256),
      "😀".repeat(128),
      `${"中".repeat(170)}ab`,
      "e\u0301".repeat(256),
    ]) {
      expect(() => assigner.bucket("dep", id)).not.toThrow();
    }
    expect(MAX_UNIT_ID_BYTES).toBe(512);
  });

  it("keeps ASCII ids as they are and normalises others to NFC", () => {
    const ascii = "user-42@example.com";
    expect(normalizeUnitId(ascii)).toBe(ascii);
    expect(normalizeUnitId("Jose\u0301")).toBe("José");
    expect(normalizeUnitId("👩‍💻")).toBe("👩‍💻");
    // Spaces and punctuation are ordinary characters, not controls.
    expect(normalizeUnitId(" a b ")).toBe(" a b ");
  });

  it("names the field it is told to", () => {
    expect(invalidInput(() => normalizeUnitId("", "units[3]")).field).toBe("units[3]");
  });
});

describe("deployment id validation", () => {
  it("refuses empty and unclean deployment ids, naming deployment_id", () => {
    for (const deploymentId of ["", "dep\n", "a\ud800", "d".repeat(513)]) {
      const error = invalidInput(() => assigner.bucket(deploymentId, "user-1"));
      expect(error.field).toBe("deployment_id");
      expect(error.message).toMatch(/^deployment_id /);
    }
  });

  it("does not cache a refused deployment id", () => {
    expect(() => assigner.bucket("", "u")).toThrow(InvalidInputError);
    expect(() => assigner.bucket("", "u")).toThrow(InvalidInputError);
  });
});

describe("percent validation", () => {
  const invalid: [unknown, RegExp][] = [
    [-0.01, /from 0 to 100, got -0.01/],
    [100.01, /from 0 to 100, got 100.01/],
    [Number.NaN, /finite number/],
    [Number.POSITIVE_INFINITY, /finite number/],
    [0.001, /multiple of 0.01 \(got 0.001\).*e\.g\. 0/],
    [0.125, /multiple of 0.01 \(got 0.125\): round it to two decimals, e\.g\. 0.13/],
    [33.333, /multiple of 0.01/],
    ["5", /finite number.*got 5/],
    [undefined, /finite number/],
  ];
  for (const [percent, message] of invalid) {
    it(`refuses ${String(percent)}, naming percent`, () => {
      const error = invalidInput(() =>
        assigner.assign({ deploymentId: "dep", unitId: "user-1", percent: percent as number }),
      );
      expect(error.field).toBe("percent");
      expect(error.message).toMatch(/^percent /);
      expect(error.message).toMatch(message);
    });
  }

  it("turns valid percents into integer basis points, tolerating float noise", () => {
    expect(percentToThreshold(0)).toBe(0);
    expect(percentToThreshold(0.01)).toBe(1);
    expect(percentToThreshold(0.07)).toBe(7);
    expect(percentToThreshold(0.29)).toBe(29); // 0.29 * 100 = 28.999999999999996
    expect(percentToThreshold(0.1 + 0.2)).toBe(30);
    expect(percentToThreshold(2.25)).toBe(225);
    expect(percentToThreshold(33.33)).toBe(3333);
    expect(percentToThreshold(99.99)).toBe(9999);
    expect(percentToThreshold(100)).toBe(10_000);
    for (let bp = 0; bp <= 10_000; bp++) expect(percentToThreshold(bp / 100)).toBe(bp);
  });
});
