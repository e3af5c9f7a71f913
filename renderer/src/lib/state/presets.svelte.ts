// Prompt presets (a prompt with the Generate form's settings, under a name), kept by the host in the library's
// settings so the web page, the app and the CLI see the same ones. Each change reads the list afresh and writes it
// whole, so a preset saved elsewhere meanwhile is kept.
import type { StudioApi } from '../../../../electron/common/contract';
import type { PromptPreset } from '../../../../electron/common/api/settings';
import { messageOf } from '../errors';

export class PresetsState {
  list = $state.raw<ReadonlyArray<PromptPreset>>([]);
  error = $state<string | null>(null);
  /** What the last change did ("Saved …"), for a status line. */
  status = $state<string | null>(null);
  readonly #api: StudioApi;

  constructor(api: StudioApi) {
    this.#api = api;
  }

  async load(): Promise<void> {
    try {
      this.list = (await this.#api.call('settings.get', {})).presets ?? [];
      this.error = null;
    } catch (error) {
      this.error = `Presets could not be loaded: ${messageOf(error)}`;
    }
  }

  find(name: string): PromptPreset | undefined {
    return this.list.find((p) => p.name === name);
  }

  /** Saves a preset, replacing the one of the same name (in its place); true when saved. */
  save(preset: PromptPreset): Promise<boolean> {
    if (!preset.name) {
      this.error = 'Give the preset a name first.';
      return Promise.resolve(false);
    }
    return this.#change(
      (list) => {
        const at = list.findIndex((p) => p.name === preset.name);
        return at < 0 ? [...list, preset] : list.map((p, i) => (i === at ? preset : p));
      },
      `${this.find(preset.name) ? 'Updated' : 'Saved'} preset “${preset.name}”.`,
    );
  }

  remove(name: string): Promise<boolean> {
    return this.#change((list) => list.filter((p) => p.name !== name), `Deleted preset “${name}”.`);
  }

  async #change(
    edit: (list: ReadonlyArray<PromptPreset>) => ReadonlyArray<PromptPreset>,
    done: string,
  ): Promise<boolean> {
    try {
      const current = (await this.#api.call('settings.get', {})).presets ?? [];
      const saved = await this.#api.call('settings.set', { presets: [...edit(current)] });
      this.list = saved.presets ?? [];
      this.error = null;
      this.status = done;
      return true;
    } catch (error) {
      this.error = `The preset could not be saved: ${messageOf(error)}`;
      this.status = null;
      return false;
    }
  }
}
