// `canary-pilot/openfeature`: the OpenFeature server provider (needs @openfeature/server-sdk).
export { CanaryProvider, type CanaryProviderOptions } from "./provider.js";
