// The Sweep view in real Chromium against web mode, on the shipped Shapes World model: tokens per step × seed fills
// in cell by cell with each cell's time per image and ShapesEval verdict, the grid PNG with its legend shows when it
// is done, the cells open in the Gallery, and a long sweep cancels. Screenshots at 1280×800 and 900×600:
// test-results/sweep-*.png.
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { openStudio, screenshot } from './browser';

describe('sweep view', () => {
  let browser: Browser;
  let page: Page;
  let errors: Array<string>;
  const cells = () => page.getByTestId('sweep-cell');
  const status = () => page.getByTestId('sweep-status');

  beforeAll(async () => {
    ({ browser, page, errors } = await openStudio(inject('baseUrl')));
  });

  afterAll(async () => {
    await browser?.close();
  });

  it('runs tokens per step × seed and fills the grid with ms per image and pass/fail', async () => {
    await page.getByRole('navigation', { name: 'Views' }).getByRole('link', { name: 'Sweep', exact: true }).click();
    await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent()).toBe('Sweep');
    await screenshot(page, 'sweep-empty-1280x800');

    await page.getByLabel('Prompt').fill('a red circle left of a blue square');
    await page.getByLabel('Columns setting').selectOption('tokensPerStep');
    await page.getByLabel('Columns values').fill('1, 4, 16');
    await page.getByLabel('Rows setting').selectOption('seed');
    await page.getByLabel('Rows values').fill('0, 1');
    await page.getByRole('button', { name: 'Run sweep' }).click();

    // The grid is laid out at once, then fills in.
    await expect.poll(() => cells().count(), { timeout: 20_000 }).toBe(6);
    await expect.poll(() => page.getByTestId('cell-ms').count(), { timeout: 90_000 }).toBeGreaterThanOrEqual(1);
    await expect.poll(() => page.getByTestId('cell-ms').count(), { timeout: 90_000 }).toBe(6);
    await expect.poll(() => status().textContent(), { timeout: 30_000 }).toMatch(/^\s*6 images in /);
    for (const text of await page.getByTestId('cell-ms').allTextContents()) expect(text).toMatch(/^\d+ ms$|^\d/);
    // A Shapes World prompt: every cell has ShapesEval's verdict.
    const verdicts = await page.getByTestId('cell-verdict').allTextContents();
    expect(verdicts).toHaveLength(6);
    for (const v of verdicts) expect(v).toMatch(/^(✓ pass|✗ fail)$/);
    // Columns in the order asked, and their means.
    const header = await page.getByRole('table', { name: 'Sweep grid' }).locator('thead th').allTextContents();
    expect(header.slice(1).map((t) => t.trim())).toEqual(['1', '4', '16']);
    expect(await page.getByTestId('column-summary').allTextContents()).toHaveLength(3);
    // Each cell shows its library image.
    await expect
      .poll(() =>
        cells()
          .locator('img')
          .evaluateAll((imgs) => imgs.filter((i) => (i as HTMLImageElement).naturalWidth > 0).length),
      )
      .toBe(6);
    // The grid PNG with its legend.
    const grid = page.getByTestId('sweep-grid-png');
    await expect
      .poll(() => grid.evaluate((img) => (img as HTMLImageElement).naturalWidth), { timeout: 20_000 })
      .toBeGreaterThan(500);
    await screenshot(page, 'sweep-done-1280x800');
    await grid.scrollIntoViewIfNeeded();
    await screenshot(page, 'sweep-grid-png-1280x800');

    await page.setViewportSize({ width: 900, height: 600 });
    await page.getByRole('table', { name: 'Sweep grid' }).scrollIntoViewIfNeeded();
    await screenshot(page, 'sweep-done-900x600');
    // Nothing overflows the page sideways (the grid scrolls inside its own box).
    expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
    await page.setViewportSize({ width: 1280, height: 800 });

    // The cells open in the Gallery, selected.
    await page.getByRole('button', { name: 'Show in Gallery' }).click();
    await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent()).toBe('Gallery');
    await expect.poll(() => page.getByText('6 selected').count()).toBeGreaterThan(0);
    await screenshot(page, 'sweep-in-gallery-1280x800');
    expect(errors).toEqual([]);
  });

  it('cancels a long sweep, keeping the cells made so far', async () => {
    await page.goto(`${inject('baseUrl')}#/sweep`);
    await page.getByLabel('Prompt').fill('a green triangle');
    await page.getByLabel('Columns setting').selectOption('seed');
    await page.getByLabel('Columns values').fill('10, 11, 12, 13');
    await page.getByLabel('Rows setting').selectOption('');
    // One token per group and many steps: each cell takes long enough to be cancelled mid-way.
    await page.getByRole('spinbutton', { name: 'Tokens per step' }).fill('1');
    await page.getByRole('spinbutton', { name: 'Steps' }).fill('200');
    await page.getByRole('button', { name: 'Run sweep' }).click();
    await expect.poll(() => status().textContent(), { timeout: 20_000 }).toMatch(/of 4 images…/);
    await page.getByRole('button', { name: 'Cancel', exact: true }).click();
    await expect.poll(() => status().textContent(), { timeout: 120_000 }).toMatch(/Cancelled after \d of 4 images/);
    expect(await page.getByTestId('cell-ms').count()).toBeLessThan(4);
    await expect.poll(() => page.getByRole('button', { name: 'Run sweep' }).isEnabled()).toBe(true);
    await screenshot(page, 'sweep-cancelled-1280x800');
    expect(errors).toEqual([]);
  });
});
