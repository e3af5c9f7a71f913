// Comparing two library images in real Chromium against web mode (the default model): one prompt at two seeds, both
// selected in the Gallery, compared side by side, with the slider, blinking and with a difference map, and their
// settings diffed line by line (only the seeds differ).
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { api, openStudio, screenshot } from './browser';

const WORD = `comparecheck${Date.now().toString(36)}`;

describe('compare two library images', () => {
  let browser: Browser;
  let page: Page;
  let errors: Array<string>;
  const images = () => page.getByRole('listbox', { name: 'Images' }).getByRole('option');

  beforeAll(async () => {
    ({ browser, page, errors } = await openStudio(inject('baseUrl')));
    const prompt = `a red circle ${WORD}`;
    await api(page, 'generation.generate', { prompt, seed: 5, previews: false });
    await api(page, 'generation.generate', { prompt, seed: 6, previews: false });
    for (let tries = 0; tries < 1200; tries++) {
      if ((await api<{ total: number }>(page, 'library.search', { text: WORD })).total === 2) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  });

  afterAll(async () => {
    await browser?.close();
  });

  it('compares the two selected images and diffs their settings', async () => {
    await page.getByRole('navigation', { name: 'Views' }).getByRole('link', { name: 'Gallery', exact: true }).click();
    await page.getByRole('searchbox', { name: 'Search' }).fill(WORD);
    await expect.poll(() => images().count()).toBe(2);
    await expect.poll(() => page.getByTestId('compare-two').count()).toBe(0);
    await images().nth(0).locator('button').click();
    await images()
      .nth(1)
      .locator('button')
      .click({ modifiers: ['Control'] });
    await page.getByTestId('compare-two').click();

    const dialog = page.getByTestId('compare-records');
    await expect.poll(() => dialog.getByTestId('settings-diff').count()).toBe(1);
    const differing = await dialog.locator('tr.differs th').allTextContents();
    expect(differing).toEqual(['Seed', 'Order seed']);
    expect((await dialog.locator('tr.differs td').allTextContents()).sort()).toEqual(['5', '5', '6', '6']);
    await expect.poll(() => dialog.getByRole('img', { name: /^#\d+$/ }).count()).toBe(2);
    await screenshot(page, 'compare-side-by-side');

    await dialog.getByRole('radio', { name: 'Slider' }).check();
    await dialog.getByRole('slider', { name: 'Split position' }).fill('0.3');
    await dialog.getByRole('radio', { name: 'Blink' }).check();
    await expect.poll(() => dialog.getByText(/^Showing: #\d+$/).textContent()).toMatch(/^Showing: #\d+$/);

    await dialog.getByRole('radio', { name: 'Side by side' }).check();
    await dialog.getByRole('checkbox', { name: 'Difference map' }).check();
    await expect.poll(() => dialog.getByTestId('diff-stats').count(), { timeout: 10_000 }).toBe(1);
    expect(await dialog.getByRole('img', { name: 'Difference map' }).getAttribute('src')).toMatch(/^data:image\/png/);
    // Two seeds, two images: the map measures a difference.
    expect(await dialog.getByTestId('diff-stats').textContent()).not.toMatch(
      /^Mean difference 0\.0 of 255, largest 0;/,
    );
    await screenshot(page, 'compare-difference-map');

    await dialog.getByRole('button', { name: 'Close' }).click();
    await expect.poll(() => dialog.isVisible()).toBe(false);
    expect(errors).toEqual([]);
  });
});
