import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: "forks",
    // Tests never touch the real home: each sets GIGAREELS_CONFIG_DIR to a temporary folder.
    env: { GIGAREELS_CONFIG_DIR: "/nonexistent-gigareels-config-use-a-temp-dir" },
  },
});
