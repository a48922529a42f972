import { defineConfig } from "vitest/config";

// The suite StrykerJS runs against each mutant (npm run mutate): the in-process unit tests only.
// End-to-end tests spawn the built CLI in dist/, which a mutant of the sources never reaches.
export default defineConfig({
  test: {
    include: ["test/unit/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
