// A running job outside the window: the taskbar/dock progress follows its tokens, and when it ends while the window is
// not focused a system notification says so. Built from the Electron objects main passes in (tests use fakes).
import type { StudioEvent } from '../common/contract';

export type ProgressWindow = Readonly<{
  setProgressBar: (progress: number) => void;
  isFocused: () => boolean;
}>;

export type JobProgressDeps = Readonly<{
  subscribe: (listener: (event: StudioEvent) => void) => () => void;
  window: () => ProgressWindow | null;
  /** Shows a system notification (Electron's Notification where supported). */
  notify: (title: string, body: string) => void;
}>;

export function followJobs(deps: JobProgressDeps): () => void {
  return deps.subscribe((event) => {
    if (event.type !== 'generation.progress') return;
    const window = deps.window();
    const p = event.data;
    if (p.status === 'queued' || p.status === 'prefill')
      window?.setProgressBar(2); // > 1: indeterminate
    else if (p.status === 'group') window?.setProgressBar(p.committed / p.total);
    else if (p.status === 'done' || p.status === 'error' || p.status === 'cancelled') {
      window?.setProgressBar(-1); // removes the bar
      if (p.status === 'done' && !window?.isFocused()) {
        const n = p.images.length;
        deps.notify(
          'VGT Studio',
          `${n === 1 ? 'Your image is' : `${n} images are`} ready (${p.seconds.toFixed(1)} s).`,
        );
      } else if (p.status === 'error' && !window?.isFocused()) {
        deps.notify('VGT Studio', `The job failed: ${p.error.message}`.slice(0, 200));
      }
    }
  });
}
