import { createHash } from "node:crypto";
import type { PopulationFilter } from "../core/cohort/population.js";
import { findDeployment } from "../ledger/deployments.js";
import type { OperationContext } from "../operations/context.js";

// Routers poll routing and ask for assignments far more often than anything changes. Each
// deployment's routing facts are kept in memory and dropped whenever the ledger's change token
// moves (any commit, from this process or another), so a request costs one cheap token check.

export interface DeploymentRouting {
  deployment_id: string;
  state: string;
  percent: number;
  seed: number;
  buckets: number;
  population: PopulationFilter | null;
}

export interface RoutingEntry {
  routing: DeploymentRouting;
  /** The routing body as sent, and its ETag. */
  json: string;
  etag: string;
}

const MAX_ENTRIES = 1_000;
/**
 * The change token is asked at most this often (it costs a SQLite call, several microseconds):
 * another process's commit shows within a millisecond; this process's own writes through
 * `invalidate` at once.
 */
const RECHECK_MS = 1;

export class RoutingView {
  private token: string | undefined;
  private checkedAt = Number.NEGATIVE_INFINITY;
  private readonly entries = new Map<string, RoutingEntry>();

  constructor(private readonly ctx: Pick<OperationContext, "ledger" | "assigner">) {}

  /** The deployment's current routing, or undefined when there is no such deployment. */
  get(id: string): RoutingEntry | undefined {
    const now = performance.now();
    if (now - this.checkedAt >= RECHECK_MS) {
      const token = this.ctx.ledger.changeToken();
      this.checkedAt = now;
      if (token !== this.token) {
        this.entries.clear();
        this.token = token;
      }
    }
    const cached = this.entries.get(id);
    if (cached) return cached;
    const d = this.ctx.ledger.read(() => findDeployment(this.ctx.ledger, id));
    if (!d) return undefined;
    const routing: DeploymentRouting = {
      deployment_id: d.id,
      state: d.state,
      percent: d.state === "rolled_back" ? 0 : d.state === "completed" ? 100 : d.percent,
      seed: this.ctx.assigner.seed(d.id),
      buckets: 10_000,
      population: d.policy.population ?? null,
    };
    const json = JSON.stringify(routing);
    const etag = `"${createHash("sha256").update(json).digest("base64url").slice(0, 27)}"`;
    const entry = { routing, json, etag };
    if (this.entries.size >= MAX_ENTRIES) this.entries.clear();
    this.entries.set(id, entry);
    return entry;
  }

  /** Forces the next `get` to look at the change token (after a write in this process). */
  invalidate(): void {
    this.checkedAt = Number.NEGATIVE_INFINITY;
  }
}
