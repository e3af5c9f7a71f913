// Updates (electron-updater) that never download or install behind the user's back: a found update is offered,
// downloaded only after "Download", and installed only after "Restart now". Free of Electron imports so tests can
// drive it with a fake updater; main passes electron-updater's autoUpdater and a dialog.
export type UpdaterLike = {
  autoDownload: boolean;
  autoInstallOnAppQuit: boolean;
  on(event: 'update-available' | 'update-downloaded', listener: (info: { version: string }) => void): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
  checkForUpdates(): Promise<unknown>;
  downloadUpdate(): Promise<unknown>;
  quitAndInstall(): void;
};

export type Question = Readonly<{ message: string; detail: string; yes: string; no: string }>;

export type UpdateWiring = Readonly<{
  /** Resolves true when the user picked `yes`. */
  ask: (question: Question) => Promise<boolean>;
  log: (message: string) => void;
}>;

export function wireUpdates(updater: UpdaterLike, { ask, log }: UpdateWiring): Promise<void> {
  updater.autoDownload = false;
  updater.autoInstallOnAppQuit = false;
  updater.on('update-available', (info) => {
    void ask({
      message: `VGT Studio ${info.version} is available.`,
      detail: 'Download it now? Your library and models stay as they are.',
      yes: 'Download',
      no: 'Not now',
    }).then((yes) => (yes ? updater.downloadUpdate().then(() => undefined) : undefined));
  });
  updater.on('update-downloaded', (info) => {
    void ask({
      message: `VGT Studio ${info.version} is ready to install.`,
      detail: 'Restart now to install it, or later: it is not installed until you say so.',
      yes: 'Restart now',
      no: 'Later',
    }).then((yes) => yes && updater.quitAndInstall());
  });
  // Offline is the normal case for a local studio: a failed check is logged, never shown.
  updater.on('error', (error) => log(`Update check failed: ${error.message}`));
  return updater.checkForUpdates().then(
    () => undefined,
    (error: Error) => log(`Update check failed: ${error.message}`),
  );
}
