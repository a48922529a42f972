import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Machines here have two cores; end-to-end tests spawn processes of their own.
    maxWorkers: 2,
  },
});
