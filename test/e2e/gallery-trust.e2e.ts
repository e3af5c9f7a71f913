// The Gallery a power user can trust, in real Chromium against web mode: the detail panel follows tags, boards,
// favourites and delete; Delete moves to the trash with Undo (no native dialog); search, selection and scroll survive
// a visit to another view; a dropped duplicate says it is already there; Inspect says what is wrong with a fake PNG
// in a sentence, with the technical text behind Details. Screenshots at 1280×800 and 900×600.
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { embedReplayParams } from '../../electron/store/library';
import { params, png } from '../store/helpers';
import { openStudio, screenshot } from './browser';

const WORD = `trustcheck${Date.now().toString(36)}`;
const COUNT = 3;

describe('gallery trust', () => {
  let browser: Browser;
  let page: Page;
  let errors: Array<string>;
  let first: string;

  const go = async (name: string) => {
    await page.getByRole('navigation', { name: 'Views' }).getByRole('link', { name, exact: true }).click();
    await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent()).toBe(name);
  };
  const images = () => page.getByRole('listbox', { name: 'Images' }).getByRole('option');
  const selection = () => page.getByRole('toolbar', { name: 'Selection' });
  const detail = () => page.getByTestId('gallery-detail');
  const toast = (text: RegExp) => page.getByTestId('toast').filter({ hasText: text });

  beforeAll(async () => {
    ({ browser, page, errors } = await openStudio(inject('baseUrl')));
    page.on('dialog', (dialog) => {
      errors.push(`native dialog: ${dialog.message()}`);
      void dialog.dismiss();
    });
    const pngs: Array<string> = [];
    for (let i = 0; i < COUNT; i++) {
      const bytes = embedReplayParams(await png(500 + i), params({ prompt: `${WORD} shape ${i}`, seed: 700 + i }));
      pngs.push(bytes.toString('base64'));
    }
    first = pngs[0]!;
    await page.evaluate(async (list) => {
      const token = document.querySelector<HTMLMetaElement>('meta[name="vgt-token"]')?.content ?? '';
      for (const base64 of list) {
        await fetch('./api/library.import', {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', 'X-VGT-Token': token },
          body: JSON.stringify({ png: base64 }),
        });
      }
    }, pngs);
  });

  afterAll(async () => {
    await browser?.close();
  });

  it('keeps the detail panel in step with tags, boards and favourites, and offers Unfavorite', async () => {
    await go('Gallery');
    await page.getByRole('searchbox', { name: 'Search' }).fill(WORD);
    await expect.poll(() => images().count()).toBe(COUNT);
    const widthBefore = await images().nth(0).boundingBox();
    await images().nth(0).locator('button').click();
    await expect.poll(() => detail().count()).toBe(1);
    // Selecting did not reflow the grid: the first cell kept its size and place.
    expect(await images().nth(0).boundingBox()).toEqual(widthBefore);
    // An imported image has no timeline: the panel says so, and no call failed on the way (Chromium logs a failed one).
    await expect.poll(() => page.getByTestId('timeline').textContent()).toMatch(/No timeline/);
    expect(errors).toEqual([]);
    await selection().getByRole('textbox', { name: 'Tags to add' }).fill('keeper');
    await selection().getByRole('button', { name: 'Add tags' }).click();
    await expect.poll(() => page.getByTestId('detail-tags').textContent()).toBe('keeper');
    await selection().getByRole('combobox', { name: 'Board to add to' }).fill('best');
    await selection().getByRole('button', { name: 'Add to board' }).click();
    await expect.poll(() => page.getByTestId('detail-boards').textContent()).toBe('best');
    await selection().getByRole('button', { name: 'Favorite', exact: true }).click();
    await expect.poll(() => selection().getByRole('button', { name: 'Unfavorite' }).count()).toBe(1);
    await expect.poll(() => selection().getByRole('button', { name: 'Favorite', exact: true }).count()).toBe(0);
    await screenshot(page, 'trust-gallery-detail-1280');
    await selection().getByRole('button', { name: 'Unfavorite' }).click();
    await expect.poll(() => selection().getByRole('button', { name: 'Favorite', exact: true }).count()).toBe(1);
  });

  it('moves to the trash without a dialog, empties the panel, and Undo brings the image back', async () => {
    const id = await detail().getAttribute('data-id');
    await selection().getByRole('button', { name: 'Delete' }).click();
    await expect.poll(() => detail().count()).toBe(0);
    await expect.poll(() => images().count()).toBe(COUNT - 1);
    await expect.poll(() => toast(/Moved 1 image to the trash/).count()).toBe(1);
    await screenshot(page, 'trust-gallery-after-delete-1280');
    await toast(/Moved 1 image/)
      .getByRole('button', { name: 'Undo' })
      .click();
    await expect.poll(() => images().count()).toBe(COUNT);
    await expect.poll(() => toast(/Restored 1 image/).count()).toBe(1);
    // Into the trash again, and it is listed there with Restore.
    await images().nth(0).locator('button').click();
    await expect.poll(() => detail().getAttribute('data-id')).toBe(id);
    await page.getByRole('listbox', { name: 'Images' }).press('Delete');
    await expect.poll(() => images().count()).toBe(COUNT - 1);
    await page.getByRole('button', { name: 'Trash' }).click();
    await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent()).toBe('Trash');
    await expect.poll(() => images().count()).toBe(1);
    await images().nth(0).locator('button').click();
    await expect.poll(() => selection().getByRole('button', { name: 'Restore' }).count()).toBe(1);
    await screenshot(page, 'trust-gallery-trash-1280');
    await selection().getByRole('button', { name: 'Restore' }).click();
    await expect.poll(() => images().count()).toBe(0);
    await page.getByRole('button', { name: 'Back to the library' }).click();
    await expect.poll(() => images().count()).toBe(COUNT);
  });

  it('keeps search, selection and the detail panel across a visit to another view', async () => {
    await images().nth(1).locator('button').click();
    const id = await detail().getAttribute('data-id');
    await go('Settings');
    await page.getByRole('navigation', { name: 'Views' }).getByRole('link', { name: 'Gallery', exact: true }).click();
    await expect.poll(() => page.getByRole('searchbox', { name: 'Search' }).inputValue()).toBe(WORD);
    await expect.poll(() => detail().getAttribute('data-id')).toBe(id);
    expect(await selection().textContent()).toContain('1 selected');
    expect(await images().nth(1).getAttribute('aria-selected')).toBe('true');
  });

  it('says a dropped duplicate is already in the library, and toasts close', async () => {
    await page.evaluate((base64) => {
      const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
      const transfer = new DataTransfer();
      transfer.items.add(new File([bytes], 'again.png', { type: 'image/png' }));
      window.dispatchEvent(new DragEvent('drop', { dataTransfer: transfer, bubbles: true, cancelable: true }));
    }, first);
    await expect.poll(() => toast(/Already in your library/).count()).toBe(1);
    expect(await toast(/Imported 0/).count()).toBe(0);
    await toast(/Already in your library/)
      .getByRole('button', { name: 'Dismiss' })
      .click();
    await expect.poll(() => toast(/Already in your library/).count()).toBe(0);
  });

  it('at 900×600 the side panel and the grid both fit', async () => {
    await page.setViewportSize({ width: 900, height: 600 });
    await images().nth(0).locator('button').click();
    await expect.poll(() => detail().count()).toBe(1);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await screenshot(page, 'trust-gallery-900');
    await page.setViewportSize({ width: 1280, height: 800 });
  });

  it('says in a sentence that a fake PNG is no image, keeps sharp’s words behind Details, and the result survives', async () => {
    await go('Inspect');
    await page.locator('input[type="file"]').setInputFiles({
      name: 'fake.png',
      mimeType: 'image/png',
      buffer: Buffer.from('this is not a png at all'.repeat(4)),
    });
    const alert = page.getByRole('alert');
    await expect.poll(() => alert.textContent()).toMatch(/This file is not an image the studio can read/);
    expect(await alert.locator('summary').textContent()).toBe('Details');
    expect(await page.getByTestId('inspect-subject').textContent()).toBe('fake.png');
    await screenshot(page, 'trust-inspect-fake-png-1280');
    await page.setViewportSize({ width: 900, height: 600 });
    await screenshot(page, 'trust-inspect-fake-png-900');
    await page.setViewportSize({ width: 1280, height: 800 });
    await go('Gallery');
    await go('Inspect');
    await expect.poll(() => page.getByRole('alert').textContent()).toMatch(/not an image the studio can read/);
    expect(errors.filter((e) => !/status of (4|5)\d\d/.test(e))).toEqual([]);
  });
});
