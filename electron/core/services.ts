// What the handlers work with: one instance of each service per studio, created and disposed together.
import type { ModelRegistry } from '../models/registry';
import type { LibraryService } from '../store/library';
import type { EventHub } from './events';
import type { ExportDownloads } from './export';
import type { GenerationRunner } from './generation-runner';

export type StudioMode = 'app' | 'web' | 'cli';

/**
 * What only the desktop shell can do, injected by electron/main (the core never imports Electron). Paths are
 * absolute; the chooser answers null when the user cancels.
 */
export type DesktopCapabilities = Readonly<{
  /** Shows the file selected in the OS file manager. */
  revealFile(file: string): void;
  /** Puts an image file on the system clipboard as an image. */
  copyImage(file: string): void;
  /** Drags a file out of the window (to the desktop or another app); called as the page's own drag starts. */
  startDrag(file: string): void;
  /** Asks for a folder to export into. */
  chooseFolder(title: string): Promise<string | null>;
  /** Asks where to save a file, suggesting `defaultName`. */
  chooseSaveFile(
    title: string,
    defaultName: string,
    filter: Readonly<{ name: string; extensions: ReadonlyArray<string> }>,
  ): Promise<string | null>;
}>;

export type Services = {
  readonly home: string;
  readonly mode: StudioMode;
  readonly env: NodeJS.ProcessEnv;
  readonly electronVersion: string | null;
  readonly events: EventHub;
  /** Installed and built-in model bundles: `models.resolve(id?)` gives the bundle folder to run. */
  readonly models: ModelRegistry;
  /** History, gallery and queue (SQLite), opened on first use: `await library.get()`. */
  readonly library: LibraryService;
  /** The desktop shell's abilities; null in web mode and the CLI. */
  readonly desktop: DesktopCapabilities | null;
  /** Export zips waiting to be downloaded once (web mode). */
  readonly exports: ExportDownloads;
  /** Generation: jobs, their queue and the engine (which starts on first use). The studio starts and disposes it. */
  readonly runner: GenerationRunner;
};
