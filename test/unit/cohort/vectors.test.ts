import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { createAssigner } from "../../../mcp-server/cohort-assigner.js";
import type { CohortAssigner } from "../../../mcp-server/core/cohort/index.js";
import { InvalidInputError } from "../../../mcp-server/core/errors.js";

interface Vector {
  kind: string;
  deployment_id: string;
  unit_id: string;
  bucket: number;
  percent: number;
  in_canary: boolean;
}

interface VectorFile {
  deployments: { deployment_id: string; seed: number }[];
  vectors: Vector[];
  invalid_unit_ids: { unit_id: string; reason: string }[];
}

const vectorsUrl = new URL("../../../fixtures/cohort-vectors.json", import.meta.url);
const generator = fileURLToPath(new URL("../../../scripts/cohort-vectors.mjs", import.meta.url));
const file = JSON.parse(readFileSync(vectorsUrl, "utf8")) as VectorFile;

let assigner: CohortAssigner;
beforeAll(async () => {
  assigner = await createAssigner();
});

describe("shipped cohort vectors", () => {
  it("cover the cases other languages get wrong", () => {
    expect(file.vectors.length).toBeGreaterThanOrEqual(1000);
    const kinds = new Set(file.vectors.map((v) => v.kind));
    for (const kind of [
      "uuid",
      "unicode_nfc",
      "unicode_nfd",
      "emoji",
      "cjk",
      "rtl",
      "one_char",
      "max_bytes",
    ]) {
      expect(kinds).toContain(kind);
    }
    const percents = new Set(file.vectors.map((v) => v.percent));
    for (const percent of [0, 0.01, 0.5, 2.25, 99.99, 100]) expect(percents).toContain(percent);
    // The file stays ASCII so no tool can re-normalise the NFD vectors.
    expect(/^[\x20-\x7e\n]*$/.test(readFileSync(vectorsUrl, "utf8"))).toBe(true);
  });

  it("publish the seeds the product computes", () => {
    for (const { deployment_id, seed } of file.deployments) expect(assigner.seed(deployment_id)).toBe(seed);
  });

  it("all match the product's bucket and cohort", () => {
    const mismatches = file.vectors.filter((v) => {
      const result = assigner.assign({
        deploymentId: v.deployment_id,
        unitId: v.unit_id,
        percent: v.percent,
      });
      return (
        assigner.bucket(v.deployment_id, v.unit_id) !== v.bucket ||
        result.bucket !== v.bucket ||
        result.cohort !== (v.in_canary ? "canary" : "control")
      );
    });
    expect(mismatches).toEqual([]);
  });

  it("give NFC and NFD forms of a name the same bucket", () => {
    const nfc = file.vectors.filter((v) => v.kind === "unicode_nfc");
    const others = file.vectors.filter((v) => v.kind.startsWith("unicode_") && v.kind !== "unicode_nfc");
    expect(others.length).toBeGreaterThan(0);
    for (const other of others) {
      const twin = nfc.find(
        (v) => v.deployment_id === other.deployment_id && v.unit_id === other.unit_id.normalize("NFC"),
      );
      expect(twin, other.unit_id).toBeDefined();
      expect(other.unit_id).not.toBe(twin?.unit_id);
      expect(other.bucket).toBe(twin?.bucket);
    }
  });

  it("list ids that every implementation must refuse", () => {
    for (const { unit_id, reason } of file.invalid_unit_ids) {
      expect(() => assigner.bucket("checkout-2026-05-26.1", unit_id), reason).toThrow(InvalidInputError);
    }
  });

  it("are exactly what the generator writes (regenerate with node scripts/cohort-vectors.mjs)", () => {
    expect(() => execFileSync(process.execPath, [generator, "--check"], { stdio: "pipe" })).not.toThrow();
  });
});
