// The taskbar progress and the notification when a job ends, driven with a fake window and events.
import { describe, expect, it } from 'vitest';
import type { StudioEvent } from '../../electron/common/contract';
import { followJobs } from '../../electron/main/job-progress';

function harness(focused: boolean) {
  const bars: Array<number> = [];
  const notes: Array<string> = [];
  let listener: ((event: StudioEvent) => void) | null = null;
  followJobs({
    subscribe: (l) => ((listener = l), () => (listener = null)),
    window: () => ({ setProgressBar: (p) => void bars.push(p), isFocused: () => focused }),
    notify: (_title, body) => void notes.push(body),
  });
  const emit = (data: unknown) => listener?.({ type: 'generation.progress', data } as StudioEvent);
  return { bars, notes, emit };
}

const group = (committed: number) => ({
  jobId: '1',
  status: 'group',
  group: 1,
  groups: 4,
  positions: [],
  committed,
  total: 64,
  elapsedMs: 1,
});
const done = {
  jobId: '1',
  status: 'done',
  images: [{}, {}],
  model: 'm',
  ep: 'cpu',
  seconds: 1.25,
  firstPreviewMs: null,
  warnings: [],
};

describe('job progress outside the window', () => {
  it('follows the committed tokens, clears the bar at the end and notifies when the window is not focused', () => {
    const { bars, notes, emit } = harness(false);
    emit({ jobId: '1', status: 'queued', position: 0 });
    emit(group(16));
    emit(group(48));
    emit(done);
    expect(bars).toEqual([2, 0.25, 0.75, -1]);
    expect(notes).toEqual(['2 images are ready (1.3 s).']);
  });

  it('stays quiet in a focused window and after a cancel', () => {
    const focused = harness(true);
    focused.emit(done);
    expect(focused.notes).toEqual([]);
    const cancelled = harness(false);
    cancelled.emit({ jobId: '1', status: 'cancelled', committed: 3, total: 64, resumable: true });
    expect(cancelled.bars).toEqual([-1]);
    expect(cancelled.notes).toEqual([]);
  });
});
