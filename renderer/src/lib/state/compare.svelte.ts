// Comparing two images of the same size: side by side, a split slider, or blink (alternating in place, which shows
// small shifts the eye misses side by side).

export type CompareMode = 'side' | 'slider' | 'blink';

export const BLINK_MS = 600;

export class CompareState {
  mode = $state<CompareMode>('side');
  /** Where the slider splits the images, 0..1 from the left: left of it the first image, right of it the second. */
  position = $state(0.5);
  /** In blink mode: which image shows now. */
  showingSecond = $state(false);

  setPosition(value: number): void {
    this.position = Number.isFinite(value) ? Math.min(1, Math.max(0, value)) : 0.5;
  }

  /** Arrow keys move the split by 5% (10 with Shift is left to the view: it passes a larger step). */
  nudge(step: number): void {
    this.setPosition(Math.round((this.position + step) * 1000) / 1000);
  }

  setMode(mode: CompareMode): void {
    this.mode = mode;
    this.showingSecond = false;
  }

  /** Called every BLINK_MS by the view while blinking. */
  blink(): void {
    if (this.mode === 'blink') this.showingSecond = !this.showingSecond;
  }
}
