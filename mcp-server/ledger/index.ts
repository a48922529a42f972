export * from "./audit.js";
export * from "./busy.js";
export * from "./decisions.js";
export * from "./deployments.js";
export * from "./errors.js";
export * from "./open.js";
export * from "./outbox.js";
export * from "./slices.js";
