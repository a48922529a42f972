import { readFileSync } from "node:fs";
import { join } from "node:path";
import { packageRoot } from "./package-root.js";

/** The package version, read once from the package's package.json. */
export const PRODUCT_VERSION: string = (() => {
  const root = packageRoot();
  if (!root) return "0.0.0";
  try {
    return (
      (JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { version?: string }).version ??
      "0.0.0"
    );
  } catch {
    return "0.0.0";
  }
})();
