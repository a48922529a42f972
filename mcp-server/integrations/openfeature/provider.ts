import {
  type EvaluationContext,
  FlagNotFoundError,
  InvalidContextError,
  type JsonValue,
  OpenFeatureEventEmitter,
  type Provider,
  ProviderEvents,
  ProviderNotReadyError,
  type ResolutionDetails,
  TargetingKeyMissingError,
  TypeMismatchError,
} from "@openfeature/server-sdk";
import { loadXxh32 } from "../../cohort-assigner.js";
import { type CohortAssigner, createCohortAssigner } from "../../core/cohort/index.js";
import { type CohortFlag, evaluateCohortFlag, FlagError } from "../cohort-flag.js";
import type { RoutingState } from "../routing-view.js";
import { ledgerSource, type RoutingSource, serveSource } from "./routing-source.js";

// An OpenFeature server provider whose flags are canary deployments: the flag key is a deployment
// id (or a service, meaning its active deployment), the targetingKey is the unit id, and the
// variant is the unit's cohort from the same assigner as assign_cohort.

export interface CanaryProviderOptions {
  /** A running `canary serve`, e.g. "http://canary.internal:8787" (routing polled with ETags). */
  server?: string;
  /** Bearer token for serve, when its read routes need one. */
  token?: string;
  /** Or a ledger file, read directly (read-only). */
  ledger?: string;
  /** How often to look for changed percents, in ms (default 5000; 0 turns polling off: call refresh()). */
  refreshMs?: number;
  /** Flag keys to load at initialisation; others load on first evaluation. */
  flags?: string[];
  /** A fetch implementation (tests, proxies). */
  fetch?: typeof fetch;
}

function sameRouting(a: RoutingState | undefined, b: RoutingState | undefined): boolean {
  return (
    a?.deployment_id === b?.deployment_id &&
    a?.percent === b?.percent &&
    a?.state === b?.state &&
    JSON.stringify(a?.population ?? null) === JSON.stringify(b?.population ?? null)
  );
}

export class CanaryProvider implements Provider {
  readonly metadata = { name: "canary-pilot" } as const;
  readonly runsOn = "server" as const;
  readonly events = new OpenFeatureEventEmitter();
  private readonly options: CanaryProviderOptions;
  private source: RoutingSource | undefined;
  private assigner: CohortAssigner | undefined;
  /** Known flags: their last routing state (undefined: looked up, no such deployment). */
  private readonly flags = new Map<string, RoutingState | undefined>();
  private timer: NodeJS.Timeout | undefined;
  private stale = false;
  private refreshing: Promise<string[]> | undefined;

  constructor(options: CanaryProviderOptions) {
    if ((options.server === undefined) === (options.ledger === undefined))
      throw new TypeError(
        "CanaryProvider needs exactly one of `server` (a canary serve URL) or `ledger` (a file)",
      );
    this.options = options;
  }

  async initialize(_context?: EvaluationContext): Promise<void> {
    const h32 = await loadXxh32();
    this.assigner = createCohortAssigner(h32);
    const { server, ledger } = this.options;
    this.source =
      server !== undefined
        ? serveSource(server, {
            ...(this.options.token ? { token: this.options.token } : {}),
            ...(this.options.fetch ? { fetch: this.options.fetch } : {}),
          })
        : ledgerSource(ledger as string, h32);
    for (const key of this.options.flags ?? []) this.flags.set(key, await this.source.get(key));
    const every = this.options.refreshMs ?? 5000;
    if (every > 0) {
      this.timer = setInterval(() => void this.refresh().catch(() => undefined), every);
      this.timer.unref();
    }
  }

  async onClose(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.source?.close();
    this.source = undefined;
  }

  /**
   * Looks at every known flag again and emits CONFIGURATION_CHANGED naming the flags whose
   * percent, state or population moved. Returns those keys. A failed look marks the provider STALE
   * (evaluations keep the last known state) until a look succeeds.
   */
  refresh(): Promise<string[]> {
    this.refreshing ??= this.lookAgain().finally(() => {
      this.refreshing = undefined;
    });
    return this.refreshing;
  }

  private async lookAgain(): Promise<string[]> {
    const source = this.source;
    if (!source || (source.unchanged?.() && !this.stale)) return [];
    const changed: string[] = [];
    try {
      for (const [key, before] of this.flags) {
        const now = await source.get(key);
        if (!sameRouting(before, now)) changed.push(key);
        this.flags.set(key, now);
      }
    } catch (error) {
      if (!this.stale)
        this.events.emit(ProviderEvents.Stale, {
          message: `routing state could not be refreshed: ${error instanceof Error ? error.message : String(error)}`,
        });
      this.stale = true;
      throw error;
    }
    if (this.stale) {
      this.stale = false;
      this.events.emit(ProviderEvents.Ready);
    }
    if (changed.length) this.events.emit(ProviderEvents.ConfigurationChanged, { flagsChanged: changed });
    return changed;
  }

  private async evaluate(key: string, context: EvaluationContext): Promise<CohortFlag> {
    const source = this.source;
    const assigner = this.assigner;
    if (!source || !assigner) throw new ProviderNotReadyError("the canary provider is not initialised yet");
    let state: RoutingState | undefined;
    if (this.flags.has(key)) state = this.flags.get(key);
    else {
      try {
        state = await source.get(key);
      } catch (error) {
        throw new ProviderNotReadyError(
          `routing state for ${key} is not loaded and could not be fetched: ${error instanceof Error ? error.message : String(error)}`,
        );
      }
      this.flags.set(key, state);
    }
    if (!state)
      throw new FlagNotFoundError(
        `no deployment or service named ${JSON.stringify(key)} (flag key = deployment id or service)`,
      );
    try {
      return evaluateCohortFlag(assigner, state, context);
    } catch (error) {
      if (error instanceof FlagError) {
        if (error.code === "TARGETING_KEY_MISSING") throw new TargetingKeyMissingError(error.message);
        throw new InvalidContextError(error.message);
      }
      throw error;
    }
  }

  private details<T>(flag: CohortFlag, value: T): ResolutionDetails<T> {
    return { value, variant: flag.variant, reason: flag.reason, flagMetadata: flag.metadata };
  }

  async resolveBooleanEvaluation(
    flagKey: string,
    _defaultValue: boolean,
    context: EvaluationContext,
  ): Promise<ResolutionDetails<boolean>> {
    const flag = await this.evaluate(flagKey, context);
    return this.details(flag, flag.value);
  }

  /** The cohort's name as the value: "canary", "control" or "excluded". */
  async resolveStringEvaluation(
    flagKey: string,
    _defaultValue: string,
    context: EvaluationContext,
  ): Promise<ResolutionDetails<string>> {
    const flag = await this.evaluate(flagKey, context);
    return this.details(flag, flag.variant);
  }

  async resolveNumberEvaluation(flagKey: string): Promise<ResolutionDetails<number>> {
    throw new TypeMismatchError(`${flagKey} is a canary deployment: evaluate it as a boolean or a string`);
  }

  async resolveObjectEvaluation<T extends JsonValue>(flagKey: string): Promise<ResolutionDetails<T>> {
    throw new TypeMismatchError(`${flagKey} is a canary deployment: evaluate it as a boolean or a string`);
  }
}
