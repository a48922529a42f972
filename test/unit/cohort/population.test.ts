import { beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { createAssigner } from "../../../mcp-server/cohort-assigner.js";
import {
  type CohortAssigner,
  matchesPopulation,
  type PopulationFilter,
  parsePopulationFilter,
  populationFilterSchema,
  type UnitAttributes,
} from "../../../mcp-server/core/cohort/index.js";
import { InvalidInputError } from "../../../mcp-server/core/errors.js";

let assigner: CohortAssigner;
beforeAll(async () => {
  assigner = await createAssigner();
});

const alice: UnitAttributes = {
  email: "alice@example.com",
  plan: "pro",
  seats: 12,
  beta: true,
  region: "eu",
};
const bob: UnitAttributes = { email: "bob@Example.COM", plan: "free", seats: 1, beta: false };
const anonymous: UnitAttributes = {};

function matches(filter: unknown, attributes: UnitAttributes): boolean {
  return matchesPopulation(parsePopulationFilter(filter), attributes);
}

describe("population filter semantics", () => {
  it("equals compares value and type", () => {
    expect(matches({ attribute: "plan", equals: "pro" }, alice)).toBe(true);
    expect(matches({ attribute: "plan", equals: "pro" }, bob)).toBe(false);
    expect(matches({ attribute: "seats", equals: 12 }, alice)).toBe(true);
    expect(matches({ attribute: "seats", equals: "12" }, alice)).toBe(false);
    expect(matches({ attribute: "beta", equals: true }, alice)).toBe(true);
    expect(matches({ attribute: "beta", equals: false }, anonymous)).toBe(false);
  });

  it("in matches any listed value of the same type", () => {
    expect(matches({ attribute: "region", in: ["us", "eu"] }, alice)).toBe(true);
    expect(matches({ attribute: "region", in: ["us", "eu"] }, bob)).toBe(false);
    expect(matches({ attribute: "seats", in: [1, 2, 3] }, bob)).toBe(true);
    expect(matches({ attribute: "seats", in: ["1"] }, bob)).toBe(false);
  });

  it("starts_with and ends_with are case-sensitive and apply to strings only", () => {
    expect(matches({ attribute: "email", ends_with: "@example.com" }, alice)).toBe(true);
    expect(matches({ attribute: "email", ends_with: "@example.com" }, bob)).toBe(false);
    expect(matches({ attribute: "email", starts_with: "bob@" }, bob)).toBe(true);
    expect(matches({ attribute: "seats", ends_with: "2" }, alice)).toBe(false);
    expect(matches({ attribute: "email", ends_with: "@example.com" }, anonymous)).toBe(false);
  });

  it("exists tests presence either way", () => {
    expect(matches({ attribute: "region", exists: true }, alice)).toBe(true);
    expect(matches({ attribute: "region", exists: true }, bob)).toBe(false);
    expect(matches({ attribute: "region", exists: false }, bob)).toBe(true);
  });

  it("numeric bounds apply to numbers only", () => {
    expect(matches({ attribute: "seats", gte: 12 }, alice)).toBe(true);
    expect(matches({ attribute: "seats", gt: 12 }, alice)).toBe(false);
    expect(matches({ attribute: "seats", lt: 2 }, bob)).toBe(true);
    expect(matches({ attribute: "seats", lte: 0 }, bob)).toBe(false);
    expect(matches({ attribute: "plan", gt: 0 }, alice)).toBe(false);
  });

  it("composes with all, any and not", () => {
    const internalPro = {
      all: [
        { attribute: "email", ends_with: "@example.com" },
        {
          any: [
            { attribute: "plan", equals: "pro" },
            { attribute: "seats", gte: 50 },
          ],
        },
      ],
    };
    expect(matches(internalPro, alice)).toBe(true);
    expect(matches(internalPro, bob)).toBe(false);
    expect(matches({ not: { attribute: "plan", equals: "free" } }, bob)).toBe(false);
    // A unit without the attribute is not "free", so it is included.
    expect(matches({ not: { attribute: "plan", equals: "free" } }, anonymous)).toBe(true);
    expect(matches({ not: { not: { attribute: "beta", equals: true } } }, alice)).toBe(true);
  });

  it("reads own attributes only, never the prototype", () => {
    expect(matches({ attribute: "constructor", exists: true }, anonymous)).toBe(false);
    expect(matches({ attribute: "toString", exists: false }, anonymous)).toBe(true);
    expect(matches({ attribute: "__proto__", exists: true }, anonymous)).toBe(false);
  });

  it("matches nobody for a hand-built filter without an operator", () => {
    expect(matchesPopulation({ attribute: "plan" } as PopulationFilter, alice)).toBe(false);
  });
});

describe("population filter schema", () => {
  const refused: [string, unknown, string, RegExp][] = [
    [
      "two operators",
      { attribute: "a", equals: 1, exists: true },
      "population",
      /exactly one operator.*equals and exists/,
    ],
    ["no operator", { attribute: "a" }, "population", /exactly one operator/],
    ["nothing", {}, "population", /exactly one operator/],
    ["leaf without attribute", { equals: 1 }, "population.attribute", /equals needs the attribute/],
    [
      "composite with attribute",
      { attribute: "a", not: { attribute: "b", exists: true } },
      "population.attribute",
      /takes no attribute/,
    ],
    ["empty all", { all: [] }, "population.all", /at least one filter/],
    ["empty suffix", { attribute: "email", ends_with: "" }, "population.ends_with", /use exists: true/],
    ["unknown operator", { attribute: "email", matches: ".*" }, "population", /matches/],
    [
      "nested problem",
      {
        any: [
          { attribute: "a", exists: true },
          { attribute: "b", in: [] },
        ],
      },
      "population.any[1].in",
      /at least one value/,
    ],
    ["bad value type", { attribute: "a", equals: { x: 1 } }, "population.equals", /./],
    ["infinite bound", { attribute: "a", gt: Number.POSITIVE_INFINITY }, "population.gt", /./],
  ];
  for (const [name, filter, field, message] of refused) {
    it(`refuses ${name}, naming ${field}`, () => {
      let error: unknown;
      try {
        parsePopulationFilter(filter);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(InvalidInputError);
      expect((error as InvalidInputError).field).toBe(field);
      expect((error as InvalidInputError).message).toMatch(message);
    });
  }

  it("exports a JSON Schema for policy editors", () => {
    const schema = JSON.stringify(z.toJSONSchema(populationFilterSchema));
    expect(schema).toContain("ends_with");
  });
});

describe("assign with a population", () => {
  const population: PopulationFilter = { attribute: "email", ends_with: "@example.com" };

  it("excludes units outside the filter and still reports their bucket", () => {
    const result = assigner.assign({
      deploymentId: "dep",
      unitId: "bob",
      percent: 100,
      attributes: bob,
      population,
    });
    expect(result).toEqual({ cohort: "excluded", bucket: assigner.bucket("dep", "bob"), percent: 100 });
    expect(assigner.assign({ deploymentId: "dep", unitId: "x", percent: 100, population }).cohort).toBe(
      "excluded",
    );
  });

  it("splits units inside the filter by bucket as usual", () => {
    expect(
      assigner.assign({ deploymentId: "dep", unitId: "alice", percent: 100, attributes: alice, population })
        .cohort,
    ).toBe("canary");
    expect(
      assigner.assign({ deploymentId: "dep", unitId: "alice", percent: 0, attributes: alice, population })
        .cohort,
    ).toBe("control");
  });

  it("refuses a malformed filter, naming the path", () => {
    const bad = { attribute: "email", ends_with: "@example.com", equals: "x" } as PopulationFilter;
    expect(() =>
      assigner.assign({ deploymentId: "dep", unitId: "a", percent: 5, attributes: alice, population: bad }),
    ).toThrow(InvalidInputError);
  });

  it("refuses attributes that are not an object", () => {
    expect(() =>
      assigner.assign({
        deploymentId: "dep",
        unitId: "a",
        percent: 5,
        attributes: ["x"] as unknown as UnitAttributes,
        population,
      }),
    ).toThrow(/attributes must be an object/);
  });
});
