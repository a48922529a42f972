import xxhash from "xxhash-wasm";
import { type CohortAssigner, createCohortAssigner, type Xxh32 } from "./core/cohort/index.js";

// The WebAssembly module is compiled once per process and shared by every assigner.
let loading: Promise<Xxh32> | undefined;

/** XXH32 over UTF-8 bytes (xxhash-wasm encodes strings with TextEncoder), loaded once. */
export function loadXxh32(): Promise<Xxh32> {
  loading ??= xxhash().then(
    (api): Xxh32 =>
      (input, seed) =>
        typeof input === "string" ? api.h32(input, seed) : api.h32Raw(input, seed),
    (error: unknown) => {
      // Let a later call try again instead of caching the failure for the life of the process.
      loading = undefined;
      throw error;
    },
  );
  return loading;
}

/**
 * The library's cohort assigner: `await createAssigner()` once, then `bucket` and `assign` are
 * synchronous. See fixtures/COHORT-VECTORS.md for the definition other languages implement.
 */
export async function createAssigner(): Promise<CohortAssigner> {
  return createCohortAssigner(await loadXxh32());
}
