// Light/dark theme: follows the OS unless the user picks one; the choice is remembered on this device.
export type ThemePreference = 'system' | 'light' | 'dark';

const STORAGE_KEY = 'vgt.theme';

export function resolveTheme(preference: ThemePreference, systemDark: boolean): 'light' | 'dark' {
  if (preference === 'system') return systemDark ? 'dark' : 'light';
  return preference;
}

export class ThemeState {
  preference = $state<ThemePreference>('system');
  systemDark = $state(false);
  resolved = $derived(resolveTheme(this.preference, this.systemDark));

  #storage: Pick<Storage, 'getItem' | 'setItem'> | null;

  constructor(storage: Pick<Storage, 'getItem' | 'setItem'> | null, systemDark: boolean) {
    this.#storage = storage;
    this.systemDark = systemDark;
    const saved = storage?.getItem(STORAGE_KEY);
    if (saved === 'light' || saved === 'dark' || saved === 'system') this.preference = saved;
  }

  setPreference(preference: ThemePreference): void {
    this.preference = preference;
    this.#storage?.setItem(STORAGE_KEY, preference);
  }
}
