// `node --import ./module-log.mjs ...`: appends the URL of every ES module the process loads to
// the file named by CANARY_TEST_MODULE_LOG, so a test can see what a command really loaded.
import { register } from "node:module";

register("./module-log-hooks.mjs", import.meta.url);
