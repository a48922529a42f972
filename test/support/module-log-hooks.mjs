import { appendFileSync } from "node:fs";

export async function load(url, context, nextLoad) {
  appendFileSync(process.env.CANARY_TEST_MODULE_LOG, `${url}\n`);
  return nextLoad(url, context);
}
