import { InvalidInputError } from "../errors.js";
import type { Cohort } from "../slice.js";
import {
  matchesPopulation,
  type PopulationFilter,
  parsePopulationFilter,
  type UnitAttributes,
} from "./population.js";
import { checkCleanText, MAX_UNIT_ID_BYTES, normalizeUnitId, utf8ByteLength } from "./unitId.js";
import { NOT_PRINTABLE_ASCII, xxh32PrintableAscii } from "./xxh32Ascii.js";

// The cross-language definition (CONTRACT section 4):
//   seed   = XXH32(utf8(deployment_id), 0)
//   bucket = XXH32(utf8(nfc(unit_id)), seed) mod 10000
//   canary iff bucket < round(percent * 100)
// Comparing the bucket with a threshold that only grows is what makes a ramp never drop a canary
// unit, and seeding by deployment makes different deployments' cohorts independent.

/** XXH32 of the UTF-8 bytes of `input` (a string is encoded as UTF-8), as an unsigned 32-bit integer. */
export type Xxh32 = (input: Uint8Array | string, seed: number) => number;

/** Number of buckets: one per basis point, so percents with two decimals are exact. */
export const BUCKETS = 10_000;

/** Most deployment seeds an assigner remembers; a router serves a handful of live deployments. */
export const SEED_CACHE_SIZE = 1024;

export interface AssignmentRequest {
  deploymentId: string;
  unitId: string;
  /** Share of the population in the canary, 0 to 100 in steps of 0.01. */
  percent: number;
  /** The unit's attributes, tested by `population`. */
  attributes?: UnitAttributes | undefined;
  /** Units outside this filter are `excluded`. Absent: every unit takes part. */
  population?: PopulationFilter | undefined;
}

export interface CohortAssignment {
  cohort: Cohort;
  /** 0..9999; the same for a unit whatever the percent. */
  bucket: number;
  /** The percent the assignment was made at, exactly as basis points / 100. */
  percent: number;
}

/** Seed of a deployment's buckets: XXH32 of its id's UTF-8 bytes with seed 0. Validates the id. */
export function deploymentSeed(h32: Xxh32, deploymentId: string): number {
  checkDeploymentId(deploymentId);
  return h32(deploymentId, 0) >>> 0;
}

/** The unit's bucket (0..9999) in this deployment. Uncached; see createCohortAssigner for hot paths. */
export function bucketOf(h32: Xxh32, deploymentId: string, unitId: string): number {
  return unitHash(h32, unitId, deploymentSeed(h32, deploymentId)) % BUCKETS;
}

/** XXH32 of the UTF-8 bytes of the unit id's NFC form; validates the id. */
function unitHash(h32: Xxh32, unitId: string, seed: number): number {
  // Printable ASCII within the length limit is valid and already NFC: hashed and checked in one pass.
  if (typeof unitId === "string" && unitId.length > 0 && unitId.length <= MAX_UNIT_ID_BYTES) {
    const hash = xxh32PrintableAscii(unitId, seed);
    if (hash !== NOT_PRINTABLE_ASCII) return hash;
  }
  return h32(normalizeUnitId(unitId), seed) >>> 0;
}

/**
 * Percent to the integer threshold in basis points: `round(percent * 100)`. Accepts 0..100 in steps
 * of 0.01, tolerating binary float noise (0.07 * 100 is 7.000000000000001), and refuses anything
 * finer, which other languages would round differently.
 */
export function percentToThreshold(percent: unknown, field = "percent"): number {
  if (typeof percent !== "number" || !Number.isFinite(percent)) {
    throw new InvalidInputError(
      field,
      `${field} must be a finite number from 0 to 100, got ${String(percent)}`,
    );
  }
  if (percent < 0 || percent > 100) {
    throw new InvalidInputError(field, `${field} must be from 0 to 100, got ${percent}`);
  }
  const scaled = percent * 100;
  const threshold = Math.round(scaled);
  if (Math.abs(scaled - threshold) > 1e-6) {
    throw new InvalidInputError(
      field,
      `${field} must be a multiple of 0.01 (got ${percent}): round it to two decimals, e.g. ${threshold / 100}`,
    );
  }
  // `+ 0` turns -0 into 0, so the echoed percent never prints as -0.
  return threshold + 0;
}

/** Assigns one unit. Uncached and validating every input; see createCohortAssigner for hot paths. */
export function assign(h32: Xxh32, request: AssignmentRequest): CohortAssignment {
  const unitBucket = bucketOf(h32, request.deploymentId, request.unitId);
  const threshold = percentToThreshold(request.percent);
  const included =
    request.population === undefined ||
    matchesPopulation(parsePopulationFilter(request.population), attributesOf(request));
  return resultOf(included, unitBucket, threshold);
}

export interface CohortAssigner {
  /** Seed of a deployment (what the routing endpoint publishes for gateways). */
  seed(deploymentId: string): number;
  /** The unit's bucket (0..9999) in this deployment. */
  bucket(deploymentId: string, unitId: string): number;
  assign(request: AssignmentRequest): CohortAssignment;
}

/**
 * An assigner around an injected XXH32 (so this module stays pure). It remembers the seeds of the
 * last SEED_CACHE_SIZE deployments, so an assignment costs one hash of the unit id (printable ASCII
 * ids are hashed in JS in the same pass that validates them; others by the injected XXH32), and it
 * parses each distinct population filter object once (filters are treated as immutable once used).
 */
export function createCohortAssigner(h32: Xxh32, options: { seedCacheSize?: number } = {}): CohortAssigner {
  const capacity = Math.max(1, options.seedCacheSize ?? SEED_CACHE_SIZE);
  const seeds = new Map<string, number>();
  const checkedFilters = new WeakSet<object>();

  // A router mostly asks about one deployment in a row: remember the last one before the Map.
  let lastDeploymentId: string | undefined;
  let lastSeed = 0;

  function seed(deploymentId: string): number {
    if (deploymentId === lastDeploymentId) return lastSeed;
    const cached = seeds.get(deploymentId) ?? remember(deploymentId);
    lastDeploymentId = deploymentId;
    lastSeed = cached;
    return cached;
  }

  function remember(deploymentId: string): number {
    const fresh = deploymentSeed(h32, deploymentId);
    // Oldest first (a Map iterates in insertion order): enough for a handful of live deployments.
    if (seeds.size >= capacity) {
      const oldest = seeds.keys().next();
      if (!oldest.done) seeds.delete(oldest.value);
    }
    seeds.set(deploymentId, fresh);
    return fresh;
  }

  function bucket(deploymentId: string, unitId: string): number {
    return unitHash(h32, unitId, seed(deploymentId)) % BUCKETS;
  }

  function inPopulation(request: AssignmentRequest): boolean {
    const population = request.population;
    if (population === undefined) return true;
    if (!checkedFilters.has(population)) {
      parsePopulationFilter(population);
      checkedFilters.add(population);
    }
    return matchesPopulation(population, attributesOf(request));
  }

  return {
    seed,
    bucket,
    assign(request: AssignmentRequest): CohortAssignment {
      const unitBucket = bucket(request.deploymentId, request.unitId);
      const threshold = percentToThreshold(request.percent);
      return resultOf(inPopulation(request), unitBucket, threshold);
    },
  };
}

function resultOf(included: boolean, bucket: number, threshold: number): CohortAssignment {
  const cohort: Cohort = !included ? "excluded" : bucket < threshold ? "canary" : "control";
  return { cohort, bucket, percent: threshold / 100 };
}

function attributesOf(request: AssignmentRequest): Readonly<UnitAttributes> {
  const attributes = request.attributes;
  if (attributes === undefined) return NO_ATTRIBUTES;
  if (typeof attributes !== "object" || attributes === null || Array.isArray(attributes)) {
    throw new InvalidInputError(
      "attributes",
      "attributes must be an object of strings, numbers and booleans",
    );
  }
  return attributes;
}

const NO_ATTRIBUTES: Readonly<UnitAttributes> = Object.freeze({});

function checkDeploymentId(deploymentId: unknown): void {
  if (typeof deploymentId !== "string" || deploymentId.length === 0) {
    throw new InvalidInputError("deployment_id", "deployment_id must be a non-empty string");
  }
  // Not normalised (the contract hashes the id's bytes as given), so it must at least be clean text.
  checkCleanText(deploymentId, 0, "deployment_id");
  const bytes = utf8ByteLength(deploymentId);
  if (bytes > MAX_UNIT_ID_BYTES) {
    throw new InvalidInputError(
      "deployment_id",
      `deployment_id is ${bytes} UTF-8 bytes; the limit is ${MAX_UNIT_ID_BYTES}`,
    );
  }
}
