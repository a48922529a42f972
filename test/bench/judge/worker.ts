import { parentPort } from "node:worker_threads";
import { type ChunkTask, runChunk } from "./runner.js";

// A benchmark worker: runs the chunks it is sent and answers with their outcomes.
parentPort?.on("message", (task: ChunkTask) => {
  parentPort?.postMessage(runChunk(task));
});
