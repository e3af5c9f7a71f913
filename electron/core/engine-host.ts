// The engine host: the one engine of a studio (a worker thread unless a test passes another), created on first use
// with the provider order of that moment, used by one operation at a time, restarted when the provider choice
// changes, disposed with the studio.
import path from 'node:path';
import type { EngineStatusInfo } from '../engine/engine';
import { EngineThread, type EngineApi } from '../engine/engine-thread';
import type { Services } from './services';
import { providerPreference, readSettingsOrDefaults } from './settings';

/** Makes an engine told the provider order (tests pass an in-process Engine or a fake). */
export type EngineFactory = (options: Readonly<{ preference: string | undefined }>) => EngineApi;

/** What the host needs of the studio: settings (the provider choice), the data folder, notices. */
export type EngineHostServices = Pick<Services, 'home' | 'env' | 'library' | 'events'>;

export class EngineHost {
  readonly #services: EngineHostServices;
  readonly #factory: EngineFactory | undefined;
  #engine: EngineApi | null = null;
  #lock: Promise<unknown> = Promise.resolve();

  constructor(services: EngineHostServices, factory?: EngineFactory) {
    this.#services = services;
    this.#factory = factory;
  }

  /** The engine, created on first use with the provider order of that moment (VGT_EP, else the Settings choice). */
  async #engineApi(): Promise<EngineApi> {
    if (this.#engine instanceof EngineThread && !this.#engine.alive) this.#engine = null;
    if (this.#engine) return this.#engine;
    const { env, home, events } = this.#services;
    const preference = providerPreference(env, await readSettingsOrDefaults(this.#services));
    this.#engine =
      this.#factory?.({ preference }) ??
      new EngineThread(
        { preference, threads: Number(env.VGT_THREADS) || undefined, hashCacheFile: hashCache(home) },
        (fallback) =>
          events.emit({
            type: 'notice',
            data: {
              level: 'warning',
              message:
                `The ${fallback.ep} provider could not run the model, so the next one is used: ${fallback.reason}`.slice(
                  0,
                  1024,
                ),
            },
          }),
      );
    return this.#engine;
  }

  /** One engine operation at a time: a model switch must never release sessions another call is using. */
  exclusive<T>(work: (engine: EngineApi) => Promise<T>): Promise<T> {
    const next = this.#lock.then(async () => work(await this.#engineApi()));
    this.#lock = next.catch(() => undefined);
    return next;
  }

  /**
   * The provider choice changed: once the engine work in progress is done, the engine is let go, so the next
   * operation starts a new one that loads its model with the new order.
   */
  restart(): Promise<void> {
    const next = this.#lock.then(async () => {
      const engine = this.#engine;
      this.#engine = null;
      await engine?.dispose();
    });
    this.#lock = next.catch(() => undefined);
    return next;
  }

  /** Asks the engine to stop a job (no engine yet: nothing runs). */
  cancel(jobId: string): void {
    this.#engine?.cancel(jobId);
  }

  /** The engine's state, without starting one. */
  async status(): Promise<EngineStatusInfo | null> {
    return this.#engine ? await this.#engine.status() : null;
  }

  /** Waits for the operation in progress, then lets the engine go. */
  async dispose(): Promise<void> {
    await this.#lock;
    await this.#engine?.dispose();
    this.#engine = null;
  }
}

function hashCache(home: string): string {
  return path.join(home, 'cache', 'bundle-hashes.json');
}
