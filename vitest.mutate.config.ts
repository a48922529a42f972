import { defineConfig } from "vitest/config";

// The suite StrykerJS runs against each mutant (npm run mutate): the in-process unit tests only.
// End-to-end tests spawn the built CLI in dist/, which a mutant of the sources never reaches.
export default defineConfig({
  test: {
    include: ["test/unit/**/*.test.ts"],
    // One module graph per run instead of one per test file: StrykerJS runs the covering tests
    // once per mutant, and re-importing the graph for each file was most of that time (the unit
    // tests share no module state that isolation would protect).
    isolate: false,
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
