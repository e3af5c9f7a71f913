// The trust issue's screens that the other files leave out, in real Chromium against web mode (the default model),
// each at 1280×800 and 900×600: an edit while it waits and once cancelled part-way (source and mask stay in view, the
// live canvas beside them, one Cancel), resumed, and its result (pixels outside the mask kept); the Edit view's work
// across a visit to another view; a running Generate job with one Cancel (the queue panel names it instead of a
// second button) and its indicator in another view; the trash with Undo and board counts without the trashed image.
// Screenshots: test-results/trust-screens-*.png.
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { embedReplayParams } from '../../electron/store/library';
import { params, png } from '../store/helpers';
import { api, openStudio, screenshot } from './browser';

const LONG = 90_000;
const WORD = `screens${Date.now().toString(36)}`;
const SIZES = [
  [1280, 800],
  [900, 600],
] as const;

describe('trust screens', () => {
  let browser: Browser;
  let page: Page;
  let errors: Array<string>;
  /** Paths answered 404: an imported image has no timeline, which the detail panel asks for and says so. */
  const notFound: Array<string> = [];

  const go = async (name: string) => {
    await page.getByRole('navigation', { name: 'Views' }).getByRole('link', { name, exact: true }).click();
    await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent()).toBe(name);
  };
  /** One screenshot per size, the page left at 1280×800; `show` brings what the picture is about into view. */
  const shoot = async (name: string, show?: () => Promise<void>) => {
    for (const [width, height] of SIZES) {
      await page.setViewportSize({ width, height });
      await show?.();
      await screenshot(page, `trust-screens-${name}-${width}x${height}`);
    }
    await page.setViewportSize({ width: 1280, height: 800 });
  };
  const thumbs = () => page.getByRole('list', { name: 'Results' }).getByRole('listitem');
  const live = () => page.getByTestId('edit-live');
  const source = () => page.getByRole('img', { name: 'Image to edit' });
  /** A long text-to-image job through the API, so what is submitted next waits behind it. */
  const blocker = async (): Promise<string> => {
    const accepted = await api<{ jobId: string }>(page, 'generation.generate', {
      prompt: `a red circle ${WORD}`,
      tokensPerStep: 1,
      steps: 300,
    });
    expect(accepted.jobId).toBeTruthy();
    return accepted.jobId;
  };
  const cancelJob = (jobId: string) => api(page, 'generation.cancel', { jobId });

  beforeAll(async () => {
    ({ browser, page, errors } = await openStudio(inject('baseUrl')));
    page.on('response', (response) => {
      if (response.status() === 404) notFound.push(new URL(response.url()).pathname);
    });
  });

  afterAll(async () => {
    await browser?.close();
  });

  it('makes an image to edit', async () => {
    await page.goto(`${inject('baseUrl')}#/generate`);
    await page.getByLabel('Prompt', { exact: true }).fill('a blue square and a red circle');
    await page.getByLabel('Seed', { exact: true }).fill('11');
    await page.getByRole('button', { name: 'Generate' }).click();
    await expect.poll(() => thumbs().count(), { timeout: LONG }).toBe(1);
    await expect
      .poll(() => page.getByTestId('result-image').getAttribute('src'), { timeout: LONG })
      .toMatch(/^(?!data:)/);
  });

  it('keeps the source and mask in view while an edit waits and runs, with one Cancel', async () => {
    await page.getByRole('toolbar', { name: 'Result actions' }).getByRole('link', { name: 'Edit' }).click();
    const surface = page.getByRole('application');
    await surface.waitFor({ timeout: LONG });
    // The left half of the grid: the right quarter is more than a token from the mask (the pixel check below).
    await page.getByRole('radio', { name: 'Rectangle' }).check();
    const box = (await surface.boundingBox())!;
    await page.mouse.move(box.x + box.width * 0.02, box.y + box.height * 0.02);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.48, box.y + box.height * 0.98, { steps: 5 });
    await page.mouse.up();
    await expect.poll(() => page.getByTestId('mask-count').textContent()).toMatch(/^32 of 64 tokens/);
    await page.getByRole('textbox', { name: 'Edit prompt' }).fill('a yellow triangle');
    // Sixteen variants one token per step: slow enough to see running and to cancel part-way, even on a fast machine.
    await page.getByLabel('Variants').fill('16');
    await page.getByLabel('Tokens per step').selectOption('1');

    // Behind a long job the edit waits in the queue: a state the test can hold still for its screenshots.
    const blocking = await blocker();
    await page.getByRole('button', { name: 'Regenerate masked' }).click();
    await expect.poll(() => live().count(), { timeout: LONG }).toBe(1);
    expect(await source().isVisible()).toBe(true);
    expect(await page.getByText('Source and mask (locked while the edit runs)').count()).toBe(1);
    // Waiting, the live place says so instead of showing the previous job's image.
    expect(await live().getByTestId('live-preview').count()).toBe(0);
    expect(await live().textContent()).toMatch(/once the job ahead of this edit ends/);
    // The mask cannot be painted or undone under a running edit, and the edit has one Cancel.
    expect(await page.getByRole('application').count()).toBe(0);
    expect(await page.getByRole('button', { name: 'Undo' }).isDisabled()).toBe(true);
    expect(await page.getByRole('button', { name: /^Cancel/ }).count()).toBe(1);
    // Source and live canvas side by side: neither covers the other.
    const [a, b] = [(await source().boundingBox())!, (await live().boundingBox())!];
    expect(a.x + a.width).toBeLessThanOrEqual(b.x);
    await expect
      .poll(() => page.getByRole('progressbar', { name: 'Generation progress' }).count(), { timeout: LONG })
      .toBe(1);
    await shoot('edit-waiting');

    // The page cancels the edit itself once two groups are in: a poll from here can arrive after the edit ended.
    await page.evaluate(() => {
      const observer = new MutationObserver(() => {
        const text = document.querySelector('[data-testid="progress-groups"]')?.textContent ?? '';
        if (Number(/group (\d+)/.exec(text)?.[1] ?? 0) < 2) return;
        const cancel = [...document.querySelectorAll('button')].find((b) => b.textContent?.trim() === 'Cancel edit');
        if (!cancel) return;
        observer.disconnect();
        cancel.click();
      });
      observer.observe(document.body, { subtree: true, childList: true, characterData: true });
    });
    await cancelJob(blocking);
    await expect
      .poll(() => page.getByText(/^Cancelled with \d+ of \d+ tokens kept\.$/).count(), { timeout: LONG * 2 })
      .toBe(1);
    // Stopped: the mask can be painted again, beside what the edit had committed.
    expect(await page.getByRole('application').count()).toBe(1);
    expect(await source().isVisible()).toBe(true);
    await shoot('edit-cancelled');
    // Resumed, it finishes from the committed tokens into the result.
    await page.getByRole('button', { name: 'Resume' }).click();
    await expect.poll(() => page.getByRole('img', { name: 'Edited' }).count(), { timeout: LONG }).toBe(1);
    await page.getByRole('button', { name: 'Back to the mask' }).click();
    await expect.poll(() => live().count()).toBe(0);
    await expect.poll(() => page.getByTestId('mask-count').textContent()).toMatch(/^32 of 64 tokens/);
  }, 300_000);

  it('keeps the mask and prompt across a visit to another view', async () => {
    await go('Gallery');
    await go('Edit');
    await expect.poll(() => page.getByTestId('mask-count').textContent()).toMatch(/^32 of 64 tokens/);
    expect(await page.getByRole('textbox', { name: 'Edit prompt' }).inputValue()).toBe('a yellow triangle');
  });

  it('shows the result beside the source, keeps the pixels outside the mask, and continues from it', async () => {
    await page.getByLabel('Variants').fill('2');
    await page.getByLabel('Tokens per step').selectOption('');
    await page.getByRole('button', { name: 'Regenerate masked' }).click();
    await expect.poll(() => page.getByRole('img', { name: 'Edited' }).count(), { timeout: LONG }).toBe(1);
    await expect
      .poll(() => page.getByRole('img', { name: 'Edited' }).getAttribute('src'), { timeout: LONG })
      .toMatch(/^(?!data:)/);
    // Mean absolute difference over the right quarter (two tokens from the mask's edge), and over the masked half.
    const diff = await page.evaluate(async () => {
      const load = async (alt: string) => {
        const img = document.querySelector<HTMLImageElement>(`img[alt="${alt}"]`)!;
        await img.decode();
        const canvas = new OffscreenCanvas(img.naturalWidth, img.naturalHeight);
        const context = canvas.getContext('2d')!;
        context.drawImage(img, 0, 0);
        return context.getImageData(0, 0, img.naturalWidth, img.naturalHeight);
      };
      const [a, b] = [await load('Source'), await load('Edited')];
      const mean = (x0: number, x1: number) => {
        let sum = 0;
        let n = 0;
        for (let y = 0; y < a.height; y++)
          for (let x = Math.floor(x0 * a.width); x < Math.floor(x1 * a.width); x++)
            for (let c = 0; c < 3; c++, n++)
              sum += Math.abs(a.data[(y * a.width + x) * 4 + c]! - b.data[(y * a.width + x) * 4 + c]!);
        return sum / n;
      };
      return { sameSize: a.width === b.width && a.height === b.height, outside: mean(0.75, 1), inside: mean(0, 0.5) };
    });
    expect(diff.sameSize).toBe(true);
    expect(diff.outside).toBeLessThan(1);
    // The masked half was generated again, so it did change (the check above can fail).
    expect(diff.inside).toBeGreaterThan(diff.outside);
    expect(await page.getByRole('button', { name: 'Continue editing this result' }).isVisible()).toBe(true);
    await shoot('edit-result');
    await page.getByRole('button', { name: 'Continue editing this result' }).click();
    await expect.poll(() => page.getByTestId('mask-count').textContent(), { timeout: LONG }).toMatch(/^0 of 64/);
  });

  it('gives a running Generate job one Cancel, names it in the queue, and shows it from another view', async () => {
    await go('Generate');
    const blocking = await blocker();
    await page.getByLabel('Prompt', { exact: true }).fill(`two green squares ${WORD}`);
    await page.getByLabel('Images').fill('1');
    await page.getByRole('button', { name: 'Generate' }).click();
    const panel = page.getByTestId('queue-panel');
    // The form's job waits behind the blocker: its row says it is the form's, the blocker's row keeps its Cancel.
    await expect.poll(() => panel.getByTestId('queue-current').count(), { timeout: LONG }).toBe(1);
    expect(await panel.getByRole('button', { name: `Cancel #${blocking}` }).count()).toBe(1);
    const own = await panel.getByTestId('queue-current').locator('xpath=..').getAttribute('data-id');
    expect(await panel.getByRole('button', { name: `Cancel #${own}` }).count()).toBe(0);
    expect(await page.getByRole('button', { name: 'Cancel', exact: true }).count()).toBe(1);
    // The queue panel sits under the form's Cancel, at the foot of the form's own scroll.
    await shoot('generate-one-cancel', () => panel.scrollIntoViewIfNeeded());
    await go('Gallery');
    await expect
      .poll(() => page.getByRole('link', { name: /go to the running job/ }).count(), { timeout: LONG })
      .toBe(1);
    await shoot('job-indicator');
    await go('Generate');
    await page.getByRole('button', { name: 'Cancel', exact: true }).click();
    await cancelJob(blocking);
    await expect.poll(() => page.getByRole('button', { name: 'Generate' }).count(), { timeout: LONG }).toBe(1);
    await expect
      .poll(() => panel.locator('[data-status="queued"], [data-status="running"]').count(), { timeout: LONG })
      .toBe(0);
  });

  it('moves to the trash with Undo, and the board counts leave the trashed image out', async () => {
    const ids: Array<number> = [];
    for (let i = 0; i < 2; i++) {
      const bytes = embedReplayParams(await png(900 + i), params({ prompt: `${WORD} shape ${i}`, seed: 900 + i }));
      ids.push((await api<{ id: number }>(page, 'library.import', { png: bytes.toString('base64') })).id);
    }
    const board = await api<{ id: number }>(page, 'library.boards.create', { name: `board ${WORD}` });
    await api(page, 'library.boards.add', { boardId: board.id, ids });
    await go('Gallery');
    const boardOption = () => page.locator('option', { hasText: `board ${WORD}` }).textContent();
    await expect.poll(boardOption).toBe(`board ${WORD} (2)`);
    await page.getByRole('searchbox', { name: 'Search' }).fill(WORD);
    const images = () => page.getByRole('listbox', { name: 'Images' }).getByRole('option');
    await expect.poll(() => images().count()).toBe(2);
    await images().nth(0).locator('button').click();
    await page.getByRole('toolbar', { name: 'Selection' }).getByRole('button', { name: 'Delete' }).click();
    await expect.poll(() => images().count()).toBe(1);
    await expect.poll(boardOption).toBe(`board ${WORD} (1)`);
    const undo = page.getByTestId('toast').filter({ hasText: /Moved 1 image to the trash/ });
    await expect.poll(() => undo.count()).toBe(1);
    await shoot('trash-undo');
    await undo.getByRole('button', { name: 'Undo' }).click();
    await expect.poll(() => images().count()).toBe(2);
    await expect.poll(boardOption).toBe(`board ${WORD} (2)`);
    expect(notFound.filter((p) => p !== '/api/timeline.get')).toEqual([]);
    expect(errors.filter((e) => !/status of 404/.test(e))).toEqual([]);
  });
});
