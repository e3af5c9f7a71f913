// Live previews as a user watches them, in real Chromium against web mode: at 1 token per step a decoded preview (the
// decoder's full-size image, not the one-pixel-per-token mosaic) shows mid-run, under the overlay, with the newest token
// outlined, at 1280×800 and 900×600. Screenshots: test-results/previews-*.png.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { openStudio, screenshot } from './browser';

const LONG = 90_000;

describe('generate: decoded previews during a run', () => {
  let browser: Browser;
  let page: Page;
  let errors: Array<string>;

  beforeAll(async () => {
    ({ browser, page, errors } = await openStudio(`${inject('baseUrl')}#/generate`));
  });

  afterAll(async () => {
    await browser?.close();
  });

  it('shows a decoded preview mid-run at 1 token per step, under the overlay, with the newest token outlined', async () => {
    await page.getByLabel('Prompt', { exact: true }).fill('a red circle left of a blue square');
    await page.getByLabel('Seed', { exact: true }).fill('3');
    await page.getByLabel('Tokens per step').selectOption('1');
    // Many steps per token: each group takes long enough that the decoder fits in its share of the time, and the run
    // lasts long enough to watch.
    await page.getByLabel('Steps', { exact: true }).fill('300');
    await page.getByRole('button', { name: 'Generate' }).click();

    // The first decoded preview while tokens are still missing: the picture is the decoder's size, not the mosaic's.
    const seen = await page.waitForFunction(
      () => {
        const caption = document.querySelector('.live-batch .caption')?.textContent ?? '';
        const match = /(\d+) of (\d+) tokens committed/.exec(caption);
        const img = document.querySelector<HTMLImageElement>('[data-testid="live-preview"]');
        if (!match || !img || !caption.includes('decoded preview')) return null;
        const [committed, total] = [Number(match[1]), Number(match[2])];
        return committed < total && img.complete && img.naturalWidth > 8
          ? {
              committed,
              total,
              width: img.naturalWidth,
              outline: !!document.querySelector('[data-testid="newest-outline"]'),
            }
          : null;
      },
      undefined,
      { timeout: LONG, polling: 'raf' },
    );
    const state = (await seen.jsonValue())!;
    await screenshot(page, 'previews-decoded-mid-run-1280x800');
    expect(state.committed).toBeGreaterThan(0);
    expect(state.committed).toBeLessThan(state.total);
    expect(state.width).toBe(128);
    expect(state.outline).toBe(true);

    // The smallest window the studio is made for, still mid-run: the decoded picture and its caption fit beside the
    // form, without sideways overflow.
    await page.setViewportSize({ width: 900, height: 600 });
    await page.waitForTimeout(300);
    await screenshot(page, 'previews-decoded-mid-run-900x600');
    const small = await page.evaluate(() => {
      const caption = document.querySelector('.live-batch .caption')?.textContent ?? '';
      const match = /(\d+) of (\d+) tokens committed/.exec(caption);
      const img = document.querySelector<HTMLImageElement>('[data-testid="live-preview"]')!.getBoundingClientRect();
      return {
        midRun: !!match && Number(match[1]) < Number(match[2]) && caption.includes('decoded preview'),
        overflow: document.scrollingElement!.scrollWidth - window.innerWidth,
        right: img.right,
        width: img.width,
      };
    });
    expect(small.midRun).toBe(true);
    expect(small.overflow).toBeLessThanOrEqual(0);
    expect(small.width).toBeGreaterThan(200);
    expect(small.right).toBeLessThanOrEqual(900);
    await page.setViewportSize({ width: 1280, height: 800 });

    // Quick previews after it do not replace the decoded picture: they colour only the tokens committed since (a
    // second one-pixel-per-token layer under the overlay), until the next decoded preview.
    await page.waitForFunction(
      () => {
        const img = document.querySelector<HTMLImageElement>('[data-testid="live-preview"]');
        return (img?.naturalWidth ?? 0) > 8 && document.querySelectorAll('.live .stage canvas').length >= 2;
      },
      undefined,
      { timeout: LONG, polling: 'raf' },
    );

    // The generation-order overlay over the same decoded picture, while the run goes on.
    await page.getByLabel('Overlay').selectOption('order');
    await screenshot(page, 'previews-order-overlay-1280x800');

    // The run finishes into the result as usual.
    await expect
      .poll(() => page.getByTestId('result-image').getAttribute('src'), { timeout: LONG })
      .toMatch(/^(?!data:)/);
    expect(errors).toEqual([]);
  });
});
