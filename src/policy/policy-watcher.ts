import { watch, type FSWatcher } from 'node:fs';
import { isSidecarError } from '../errors.js';
import { loadPolicyDir } from './load-policies.js';
import type { PolicySet } from './policy.js';

/** The logging the watcher needs; a pino logger fits. */
export interface PolicyLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** Counts reloads by result; `SidecarMetrics.policyReloads` fits. */
export interface PolicyReloadMetrics {
  policyReloads: { inc(labels: { result: 'ok' | 'invalid' }): void };
}

/** Where SIGHUP comes from; `process` by default, anything with on/off for tests or embedding. */
export interface SignalSource {
  on(signal: 'SIGHUP', listener: () => void): unknown;
  off(signal: 'SIGHUP', listener: () => void): unknown;
}

export interface PolicyWatcherOptions {
  dir: string;
  logger: PolicyLogger;
  /** Called with each new valid set (not with the initial one `start` returns). */
  onReload: (set: PolicySet) => void;
  metrics?: PolicyReloadMetrics;
  /** Quiet time after the last file event before reloading; editors write in bursts. @default 250 */
  debounceMs?: number;
  /** @default process */
  signals?: SignalSource;
}

/**
 * Keeps a policy set in step with its folder: reloads on SIGHUP and when a file in the folder
 * changes (fs.watch on the folder, so new files and Kubernetes ConfigMap symlink swaps count),
 * debounced. An invalid folder keeps the current set, logs every problem and counts
 * `policyReloads{result="invalid"}`.
 */
export class PolicyWatcher {
  readonly #opts: Required<Omit<PolicyWatcherOptions, 'metrics'>> & Pick<PolicyWatcherOptions, 'metrics'>;
  #current: PolicySet | undefined;
  #fsWatcher: FSWatcher | undefined;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> = Promise.resolve();
  #pending = false;
  #closed = false;
  readonly #onSignal = (): void => {
    this.#opts.logger.info({ dir: this.#opts.dir }, 'SIGHUP: reloading policies');
    void this.reload('sighup');
  };

  constructor(options: PolicyWatcherOptions) {
    this.#opts = { debounceMs: 250, signals: process, ...options };
  }

  /** The set in force. */
  get current(): PolicySet | undefined {
    return this.#current;
  }

  /**
   * Loads the folder once and starts watching.
   * @throws SidecarError FML_ERR_POLICY_NOT_FOUND, FML_ERR_POLICY_INVALID (nothing to fall back on at start)
   */
  async start(): Promise<PolicySet> {
    const set = await loadPolicyDir(this.#opts.dir);
    this.#current = set;
    this.#opts.logger.info({ dir: this.#opts.dir, files: set.files, policies: set.policies.length }, 'policies loaded');
    this.#opts.signals.on('SIGHUP', this.#onSignal);
    this.#fsWatcher = watch(this.#opts.dir, { persistent: false }, () => this.#schedule());
    this.#fsWatcher.on('error', (err) => this.#opts.logger.warn({ err, dir: this.#opts.dir }, 'policy folder watch failed; SIGHUP still reloads'));
    return set;
  }

  /**
   * Reloads now (after any reload in progress). Resolves once done; never rejects: an invalid
   * folder is logged and counted, and the old set stays.
   */
  reload(reason: 'sighup' | 'change' | 'manual' = 'manual'): Promise<void> {
    if (this.#pending) return this.#running; // a reload is already queued and will see this change
    this.#pending = true;
    this.#running = this.#running.then(async () => {
      this.#pending = false;
      if (this.#closed) return;
      await this.#reloadOnce(reason);
    });
    return this.#running;
  }

  /** Stops watching and listening for SIGHUP; waits for a reload in progress. */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#fsWatcher?.close();
    this.#opts.signals.off('SIGHUP', this.#onSignal);
    await this.#running;
  }

  #schedule(): void {
    if (this.#closed) return;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.reload('change');
    }, this.#opts.debounceMs);
  }

  async #reloadOnce(reason: string): Promise<void> {
    const { dir, logger, metrics } = this.#opts;
    try {
      const set = await loadPolicyDir(dir);
      if (this.#closed) return;
      this.#current = set;
      metrics?.policyReloads.inc({ result: 'ok' });
      logger.info({ dir, reason, files: set.files, policies: set.policies.length }, 'policies reloaded');
      this.#opts.onReload(set);
    } catch (err) {
      metrics?.policyReloads.inc({ result: 'invalid' });
      if (isSidecarError(err)) logger.error({ dir, reason, code: err.code, problems: err.message.split('\n').slice(1) }, 'policy reload failed; keeping the previous policies');
      else logger.error({ dir, reason, err }, 'policy reload failed; keeping the previous policies');
    }
  }
}
