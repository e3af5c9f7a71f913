// The studio's flows in real Chromium against web mode, through the UI only: import the tiny test bundle, generate
// and watch the preview change, cancel and resume, search the gallery, inspect an uploaded PNG, edit with a rectangle
// mask, the keyboard-only path through Generate, and a screenshot of every view at 1280×800.
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { api, openStudio, screenshot } from './browser';

/** A word only this file's prompt has (the e2e files share one data folder). */
const WORD = `studiocheck${Date.now().toString(36)}`;

const TINY_BUNDLE = path.resolve(import.meta.dirname, '..', 'fixtures', 'tiny-bundle');
const LONG = 90_000;

describe('studio flows', () => {
  let browser: Browser;
  let page: Page;
  let errors: Array<string>;
  let uploaded: Buffer;

  const go = async (name: string) => {
    await page.getByRole('navigation', { name: 'Views' }).getByRole('link', { name, exact: true }).click();
    await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent()).toBe(name);
  };

  /** Sets the Generate form for the tiny model: one token per step and many flow steps keep it slow enough to watch. */
  const fillGenerate = async (prompt: string, steps: number) => {
    await page.getByRole('textbox', { name: 'Prompt' }).fill(prompt);
    await page.getByLabel('Tokens per step').selectOption('1');
    await page.getByLabel('Steps', { exact: true }).fill(String(steps));
    await page.getByLabel('Guidance', { exact: true }).fill('2');
  };

  const images = () => page.getByRole('listbox', { name: 'Images' }).getByRole('option');
  const resultCount = () => page.getByRole('list', { name: 'Results' }).getByRole('listitem').count();

  beforeAll(async () => {
    ({ browser, page, errors } = await openStudio(inject('baseUrl')));
  });

  afterAll(async () => {
    await browser?.close();
  });

  it('imports a model bundle folder from the Models view', async () => {
    await go('Models');
    await page.getByLabel('Folder').fill(TINY_BUNDLE);
    await page.getByLabel('How').selectOption('link');
    await page.getByRole('button', { name: 'Import model' }).click();
    // The view's own status line (the header's job indicator is a status too, and empty while nothing runs).
    await expect
      .poll(() => page.getByRole('main').getByRole('status').allTextContents(), { timeout: LONG })
      .toContainEqual(expect.stringMatching(/^Imported /));
    await expect.poll(() => page.getByRole('table').textContent()).toContain('VGT tiny');
    await screenshot(page, 'view-models-installed');
  });

  it('generates with live previews that change at least twice before the result', async () => {
    await go('Generate');
    await fillGenerate(`two red circles above a blue square ${WORD}`, 60);
    // Counts every distinct preview the live canvas shows, from the page itself (nothing is missed between polls).
    await page.evaluate(() => {
      const seen = new Set<string>();
      (window as unknown as { previewsSeen: Set<string> }).previewsSeen = seen;
      const record = () => {
        const img = document.querySelector<HTMLImageElement>('[data-testid="live-preview"]');
        if (img?.src) seen.add(img.src);
      };
      new MutationObserver(record).observe(document.body, { subtree: true, childList: true, attributes: true });
    });
    const before = await resultCount();
    await page.getByRole('button', { name: 'Generate' }).click();
    await expect
      .poll(() => page.getByTestId('progress-groups').textContent(), { timeout: LONG })
      .toMatch(/group \d+\/64/);
    await screenshot(page, 'generate-running');
    await expect.poll(resultCount, { timeout: LONG }).toBe(before + 1);
    const previews = await page.evaluate(() => (window as unknown as { previewsSeen: Set<string> }).previewsSeen.size);
    expect(previews).toBeGreaterThanOrEqual(2);
    await screenshot(page, 'view-generate');
  });

  it('cancels keeping the committed tokens, decodes them as they are, and resumes to a result', async () => {
    await go('Generate');
    const before = await resultCount();
    await fillGenerate('a yellow triangle', 400);
    await page.getByRole('button', { name: 'Generate' }).click();
    await expect
      .poll(
        async () =>
          Number(/group (\d+)/.exec((await page.getByTestId('progress-groups').textContent()) ?? '')?.[1] ?? 0),
        {
          timeout: LONG,
        },
      )
      .toBeGreaterThanOrEqual(2);
    // The form's own Cancel (the queue panel lists the run too, with its "Cancel #<id>").
    await page.getByRole('button', { name: 'Cancel', exact: true }).click();
    await page.getByRole('button', { name: 'Decode as is' }).click();
    await expect.poll(() => page.getByTestId('live-preview').count(), { timeout: LONG }).toBe(1);
    await screenshot(page, 'generate-cancelled');
    await page.getByRole('button', { name: 'Resume' }).click();
    await expect.poll(resultCount, { timeout: LONG * 2 }).toBe(before + 1);
    expect(await page.getByRole('alert').allTextContents()).toEqual([]);
  });

  it('finds generations by searching the gallery', async () => {
    await go('Gallery');
    await expect.poll(() => images().count(), { timeout: LONG }).toBeGreaterThanOrEqual(2);
    // Its own word: other e2e files share this data folder and draw circles too.
    await page.getByRole('searchbox', { name: 'Search' }).fill(WORD);
    await expect.poll(() => page.getByTestId('gallery-total').textContent(), { timeout: LONG }).toBe('1 image');
    await expect.poll(() => images().count()).toBe(1);
    await images().first().click();
    await expect
      .poll(() => page.getByRole('complementary', { name: 'Details' }).textContent())
      .toContain('two red circles above a blue square');
    await screenshot(page, 'view-gallery');
    await page.getByRole('searchbox', { name: 'Search' }).fill('zebra');
    await expect.poll(() => page.getByRole('heading', { name: 'Nothing matches' }).count()).toBe(1);
    await page.getByRole('searchbox', { name: 'Search' }).fill('');
  });

  it('inspects an uploaded PNG and reads its PSNR', async () => {
    await go('Generate');
    // A real PNG from the page itself: the result on the stage (the newest).
    uploaded = await page.getByRole('figure', { name: 'Result' }).getByTestId('result-image').screenshot();
    await go('Inspect');
    await page
      .locator('input[type="file"]')
      .setInputFiles({ name: 'upload.png', mimeType: 'image/png', buffer: uploaded });
    await expect.poll(() => page.getByTestId('psnr').textContent(), { timeout: LONG }).toMatch(/^PSNR -?\d+\.\d\d dB$/);
    await expect.poll(() => page.getByTestId('ssim').textContent()).toMatch(/^SSIM -?\d\.\d{3}$/);
    await page.getByRole('radio', { name: 'Slider' }).check();
    await page.getByRole('slider', { name: 'Split position' }).fill('0.3');
    await screenshot(page, 'view-inspect');
  });

  it('edits an image through a rectangle mask', async () => {
    await go('Edit');
    await page
      .locator('input[type="file"]')
      .setInputFiles({ name: 'upload.png', mimeType: 'image/png', buffer: uploaded });
    const surface = page.getByRole('application');
    await surface.waitFor({ timeout: LONG });
    await page.getByRole('radio', { name: 'Rectangle' }).check();
    const box = (await surface.boundingBox())!;
    await page.mouse.move(box.x + box.width * 0.1, box.y + box.height * 0.1);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.45, box.y + box.height * 0.6, { steps: 5 });
    await page.mouse.up();
    await expect.poll(() => page.getByTestId('mask-count').textContent()).toMatch(/^(1[0-9]|[2-9]\d) of 64 tokens/);
    await page.getByRole('button', { name: 'Undo' }).click();
    await expect.poll(() => page.getByTestId('mask-count').textContent()).toMatch(/^0 of 64/);
    await page.getByRole('button', { name: 'Redo' }).click();
    await page.getByRole('textbox', { name: 'Edit prompt' }).fill('a green square');
    // The model reads the prompt alone, whatever its default.
    await page.getByRole('combobox', { name: 'Context' }).selectOption({ label: 'Prompt only' });
    await screenshot(page, 'view-edit');
    const sent = page.waitForRequest((request) => request.url().endsWith('/api/generation.edit'));
    await page.getByRole('button', { name: 'Regenerate masked' }).click();
    expect((await sent).postDataJSON()).toMatchObject({ editContext: 'none' });
    await expect.poll(() => page.getByRole('img', { name: 'Edited' }).count(), { timeout: LONG }).toBe(1);
    await screenshot(page, 'edit-result');
    // The library records the context with the edit, so a replay feeds the model the same.
    const { items } = await api<{ items: Array<{ id: number; kind: string }> }>(page, 'library.list', { limit: 1 });
    expect(items[0]?.kind).toBe('edit');
    const record = await api<{ params: { extra: Record<string, unknown> } }>(page, 'library.get', { id: items[0]!.id });
    expect(record.params.extra).toMatchObject({ editContext: 'none' });
  });

  it('generates with the keyboard alone', async () => {
    await page.goto(`${inject('baseUrl')}#/generate`);
    await page.reload();
    const before = await resultCount();
    let onPrompt = false;
    for (let i = 0; i < 20 && !onPrompt; i++) {
      await page.keyboard.press('Tab');
      onPrompt = await page.evaluate(() => document.activeElement?.id === 'prompt');
    }
    expect(onPrompt).toBe(true);
    await page.keyboard.type('one blue circle');
    // Focus must be visible where the keyboard is.
    expect(await page.evaluate(() => document.activeElement?.matches(':focus-visible'))).toBe(true);
    await page.keyboard.press('Control+Enter');
    await expect.poll(resultCount, { timeout: LONG }).toBe(before + 1);
    let onReuse = false;
    for (let i = 0; i < 40 && !onReuse; i++) {
      await page.keyboard.press('Tab');
      onReuse = await page.evaluate(() => document.activeElement?.textContent === 'Reuse settings');
    }
    expect(onReuse).toBe(true);
    await page.keyboard.press('Enter');
    expect(await page.getByRole('textbox', { name: 'Prompt' }).inputValue()).toBe('one blue circle');
  });

  it('looks right in the dark theme', async () => {
    await go('Settings');
    await page.getByLabel('Theme').selectOption('dark');
    await expect.poll(() => page.evaluate(() => document.documentElement.dataset.theme)).toBe('dark');
    await go('Generate');
    await screenshot(page, 'view-generate-dark');
    await go('Settings');
    await page.getByLabel('Theme').selectOption('system');
    await screenshot(page, 'view-settings');
  });

  it('raised no page errors or CSP violations', () => {
    expect(errors).toEqual([]);
  });
});
