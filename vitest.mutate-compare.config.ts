import { defineConfig } from "vitest/config";

// The tests npm run mutate:compare runs against each mutant of core/compare: the judge's own unit
// tests (compare, stats, decide, charts), without the operations tests that reach it through SQLite.
export default defineConfig({
  test: {
    include: [
      "test/unit/compare/**/*.test.ts",
      "test/unit/stats/**/*.test.ts",
      "test/unit/decide/**/*.test.ts",
      "test/unit/charts/**/*.test.ts",
    ],
    isolate: false,
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
