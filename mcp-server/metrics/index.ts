import { canonicalJson } from "../core/canonical-json.js";
import type { SourcePolicy } from "../core/policy/schema.js";
import { createHttpClient, type HttpClientOptions } from "./http-client.js";
import { createPrometheusProvider } from "./prometheus.js";
import type { MetricProvider } from "./provider.js";

export type { FetchResult, MetricProvider, SeriesRequest, SlicePoint, SourceFailure } from "./provider.js";

/** Builds the provider a policy's source names; pushed slices (no source) need none. */
export type ProviderFactory = (source: SourcePolicy) => MetricProvider;

export function createProvider(source: SourcePolicy, options: HttpClientOptions = {}): MetricProvider {
  return createPrometheusProvider(source, createHttpClient(source.prometheus, options));
}

// One provider per distinct server config, so long-lived processes (watch, serve, mcp) keep
// their connections alive across looks and deployments.
const shared = new Map<string, MetricProvider>();

export const sharedProvider: ProviderFactory = (source) => {
  const key = canonicalJson(source.prometheus);
  let p = shared.get(key);
  if (!p) {
    p = createProvider(source);
    shared.set(key, p);
  }
  return p;
};

/** Closes the shared providers' connections (short CLI commands, before exit). */
export async function closeSharedProviders(): Promise<void> {
  const all = [...shared.values()];
  shared.clear();
  await Promise.all(all.map((p) => p.close()));
}
