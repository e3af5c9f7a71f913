// The execution provider preference (Settings): kept in the library by the host (`settings.get` / `settings.set`),
// offered with what doctor's probe found (available or why not). It is used from the next model load on, and VGT_EP,
// when the studio was started with it, wins over it; the view says both.
import type { Doctor, StudioApi } from '../../../../electron/common/contract';
import type { ProviderPreference } from '../../../../electron/common/api/settings';
import { humanReason, messageOf } from '../errors';

export const PROVIDER_NAMES: Readonly<Record<string, string>> = {
  cuda: 'CUDA',
  dml: 'DirectML',
  coreml: 'Core ML',
  webgpu: 'WebGPU',
  cpu: 'CPU',
};

/** Reasons can be long onnxruntime messages: an option shows the start, the list under it shows all of it. */
const REASON_CHARS = 60;

function short(text: string): string {
  return text.length <= REASON_CHARS ? text : `${text.slice(0, REASON_CHARS - 1).trimEnd()}…`;
}

export type ProviderOption = Readonly<{ value: ProviderPreference; label: string; disabled: boolean }>;

/** Automatic first, then every provider with whether it works here and, if not, why. */
export function providerOptions(report: Doctor['onnxruntime'] | null): ReadonlyArray<ProviderOption> {
  const automatic: ProviderOption = {
    value: 'auto',
    label: report
      ? `Automatic (now ${PROVIDER_NAMES[report.preferred] ?? report.preferred}, the best that works)`
      : 'Automatic (the best that works)',
    disabled: false,
  };
  return [
    automatic,
    ...(report?.providers ?? []).map((p) => ({
      value: p.id,
      label: `${PROVIDER_NAMES[p.id] ?? p.id}: ${p.available ? 'available' : `not available (${short(humanReason(p.reason ?? (p.bundled ? 'it did not start here' : 'not in this build'), 'it did not start here').message)})`}`,
      // Unavailable ones are listed, to say why, but not offered: the engine would skip them anyway.
      disabled: !p.available,
    })),
  ];
}

export class ProviderSetting {
  value = $state<ProviderPreference>('auto');
  loaded = $state(false);
  saving = $state(false);
  error = $state<string | null>(null);
  /** Set after a successful change, until the next one. */
  saved = $state(false);
  readonly #api: StudioApi;

  constructor(api: StudioApi) {
    this.#api = api;
  }

  async load(): Promise<void> {
    try {
      this.value = (await this.#api.call('settings.get', {})).provider;
      this.loaded = true;
      this.error = null;
    } catch (error) {
      this.error = `The saved choice could not be read: ${messageOf(error)}`;
    }
  }

  /** Saves a new choice; on failure the previous one is shown again with the reason. */
  async set(value: ProviderPreference): Promise<void> {
    const previous = this.value;
    this.value = value;
    this.saving = true;
    this.saved = false;
    this.error = null;
    try {
      this.value = (await this.#api.call('settings.set', { provider: value })).provider;
      this.saved = true;
    } catch (error) {
      this.value = previous;
      this.error = `Not saved: ${messageOf(error)}`;
    } finally {
      this.saving = false;
    }
  }
}
