// What the studio host says about itself (`doctor`: runtime, providers, data folder, current model) and the installed
// models, asked once for the whole app and asked again when they change (a model imported, removed or installed, a
// provider chosen), so the views and the status bar read one answer instead of each asking on its own.
import type { Doctor, StudioApi } from '../../../../electron/common/contract';
import type { Model } from '../../../../electron/common/api/models';
import { messageOf } from '../errors';

export class HostState {
  doctor = $state.raw<Doctor | null>(null);
  /** Why the last `doctor` failed (the host is unreachable, mostly); null once it answers. */
  doctorError = $state.raw<Error | null>(null);
  models = $state.raw<ReadonlyArray<Model>>([]);
  /** Whether `models` holds an answer (an empty list means none installed, not "not asked yet"). */
  modelsLoaded = $state(false);
  modelsError = $state<string | null>(null);
  readonly #api: StudioApi;
  // Only the newest request's answer lands, so a slow early answer never overwrites a newer one.
  #doctorSeq = 0;
  #modelsSeq = 0;

  constructor(api: StudioApi) {
    this.#api = api;
  }

  readonly defaultModel = $derived(this.models.find((m) => m.default));

  async refreshDoctor(): Promise<void> {
    const seq = ++this.#doctorSeq;
    try {
      const doctor = await this.#api.call('doctor', {});
      if (seq !== this.#doctorSeq) return;
      this.doctor = doctor;
      this.doctorError = null;
    } catch (failure) {
      if (seq !== this.#doctorSeq) return;
      this.doctorError = failure instanceof Error ? failure : new Error(String(failure));
    }
  }

  async refreshModels(): Promise<void> {
    const seq = ++this.#modelsSeq;
    try {
      const { models } = await this.#api.call('models.list', {});
      if (seq !== this.#modelsSeq) return;
      this.models = models;
      this.modelsLoaded = true;
      this.modelsError = null;
    } catch (failure) {
      if (seq !== this.#modelsSeq) return;
      this.modelsError = messageOf(failure);
    }
  }

  /** After a model was imported, removed, installed or made the default: the list and the current model change. */
  modelsChanged(): Promise<void> {
    return Promise.all([this.refreshModels(), this.refreshDoctor()]).then(() => undefined);
  }
}
