import { createCohortAssigner, type Xxh32 } from "../../core/cohort/index.js";
import { openLedger } from "../../ledger/open.js";
import { deploymentForFlag, type RoutingState, routingStateOf } from "../routing-view.js";

// Where the provider learns each flag's routing state: a running `canary serve` (polled with
// ETags, so an unchanged deployment costs a 304) or a ledger file read directly.

export interface RoutingSource {
  /** The state for a flag key, or undefined when no deployment matches. Throws when unreachable. */
  get(key: string): Promise<RoutingState | undefined>;
  /** True when nothing can have changed since the last call (skips a refresh). */
  unchanged?(): boolean;
  close(): void;
}

const routingFields = (v: unknown): v is Omit<RoutingState, "service"> =>
  typeof v === "object" &&
  v !== null &&
  typeof (v as RoutingState).deployment_id === "string" &&
  typeof (v as RoutingState).percent === "number" &&
  typeof (v as RoutingState).state === "string";

/** Polls serve's `GET /v1/deployments/{id}/routing`; a service key is looked up in `GET /v1/deployments`. */
export function serveSource(
  base: string,
  options: { token?: string; fetch?: typeof fetch } = {},
): RoutingSource {
  const doFetch = options.fetch ?? fetch;
  const root = base.replace(/\/+$/, "");
  const headers: Record<string, string> = { accept: "application/json" };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  const tags = new Map<string, { etag: string; state: RoutingState }>();

  async function routing(id: string, service?: string): Promise<RoutingState | undefined> {
    const known = tags.get(id);
    const res = await doFetch(`${root}/v1/deployments/${encodeURIComponent(id)}/routing`, {
      headers: known ? { ...headers, "if-none-match": known.etag } : headers,
    });
    if (res.status === 304 && known) return known.state;
    if (res.status === 404 || res.status === 400) {
      await res.body?.cancel();
      return undefined;
    }
    if (res.status !== 200) {
      await res.body?.cancel();
      throw new Error(`${root} answered ${res.status} for the routing of ${id}`);
    }
    const body: unknown = await res.json();
    if (!routingFields(body))
      throw new Error(`${root} sent a routing body without deployment_id/percent/state`);
    const state: RoutingState = {
      deployment_id: body.deployment_id,
      state: body.state,
      percent: body.percent,
      seed: body.seed,
      population: body.population ?? null,
      ...(service === undefined ? {} : { service }),
    };
    const etag = res.headers.get("etag");
    if (etag) tags.set(id, { etag, state });
    return state;
  }

  async function serviceDeployment(service: string): Promise<string | undefined> {
    const res = await doFetch(`${root}/v1/deployments`, { headers });
    if (res.status !== 200) {
      await res.body?.cancel();
      throw new Error(`${root} answered ${res.status} for the deployment list`);
    }
    const body = (await res.json()) as { deployments?: { deployment_id: string; service: string }[] };
    // The list puts active deployments first, then the most recent: the same choice as the ledger's.
    return body.deployments?.find((d) => d.service === service)?.deployment_id;
  }

  return {
    async get(key) {
      const direct = await routing(key);
      if (direct) return direct;
      const id = await serviceDeployment(key);
      return id === undefined ? undefined : routing(id, key);
    },
    close() {
      tags.clear();
    },
  };
}

/** Reads a ledger file (read-only: never locks, never writes); refreshes only when it changed. */
export function ledgerSource(path: string, h32: Xxh32): RoutingSource {
  const ledger = openLedger(path, { access: "read" });
  const assigner = createCohortAssigner(h32);
  let seen: string | undefined;
  return {
    async get(key) {
      return ledger.read(() => {
        const d = deploymentForFlag(ledger, key);
        return d ? routingStateOf(assigner, d) : undefined;
      });
    },
    unchanged() {
      const token = ledger.changeToken();
      const same = token === seen;
      seen = token;
      return same;
    },
    close() {
      ledger.close();
    },
  };
}
