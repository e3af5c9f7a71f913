// The library's ways out, in real Chromium against web mode: select several images and export them as one zip
// (PNGs that still carry their replay parameters, plus a manifest), the web-mode stand-in for "Open file location"
// (the file's path with a copy button), and the execution provider preference surviving a reload.
// Images are put into the library through the API (as a dropped studio PNG would be), under a word no other test uses.
import { readFileSync } from 'node:fs';
import { unzipSync } from 'fflate';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { EXPORT_MANIFEST_NAME, ExportManifestSchema } from '../../electron/common/api/library';
import { embedReplayParams, readReplayParams } from '../../electron/store/library';
import { params, png } from '../store/helpers';
import { openStudio, screenshot } from './browser';

const WORD = `exportcheck${Date.now().toString(36)}`;
const COUNT = 3;

describe('library export, file location and provider preference', () => {
  let browser: Browser;
  let page: Page;
  let errors: Array<string>;
  /** API calls the page made that failed, by status (the console only says "status of 404"). */
  let failedCalls: Array<string>;

  const go = async (name: string) => {
    await page.getByRole('navigation', { name: 'Views' }).getByRole('link', { name, exact: true }).click();
    await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent()).toBe(name);
  };
  const images = () => page.getByRole('listbox', { name: 'Images' }).getByRole('option');
  const selection = () => page.getByRole('toolbar', { name: 'Selection' });

  beforeAll(async () => {
    ({ browser, page, errors } = await openStudio(inject('baseUrl')));
    failedCalls = [];
    page.on('response', (response) => {
      const { pathname } = new URL(response.url());
      if (response.status() >= 400) failedCalls.push(`${response.status()} ${pathname.replace(/^.*\/api\//, '')}`);
    });
    const pngs: Array<string> = [];
    for (let i = 0; i < COUNT; i++) {
      const bytes = embedReplayParams(await png(300 + i), params({ prompt: `${WORD} shape ${i}`, seed: 900 + i }));
      pngs.push(bytes.toString('base64'));
    }
    // The page's own token and origin, as the studio's drop-to-import does.
    const imported = await page.evaluate(async (list) => {
      const token = document.querySelector<HTMLMetaElement>('meta[name="vgt-token"]')?.content ?? '';
      const ids: Array<number> = [];
      for (const base64 of list) {
        const response = await fetch('./api/library.import', {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', 'X-VGT-Token': token },
          body: JSON.stringify({ png: base64 }),
        });
        ids.push(((await response.json()) as { id: number }).id);
      }
      return ids;
    }, pngs);
    expect(imported.every((id) => Number.isInteger(id))).toBe(true);
  });

  afterAll(async () => {
    await browser?.close();
  });

  it('selects several images and exports them as a zip of PNGs with a manifest', async () => {
    await go('Gallery');
    await page.getByRole('searchbox', { name: 'Search' }).fill(WORD);
    await expect.poll(() => page.getByTestId('gallery-total').textContent()).toBe(`${COUNT} images`);
    await expect.poll(() => images().count()).toBe(COUNT);
    await images().nth(0).locator('button').click();
    await images()
      .nth(COUNT - 1)
      .locator('button')
      .click({ modifiers: ['Shift'] });
    await expect.poll(() => selection().textContent()).toContain(`${COUNT} selected`);
    // Web mode offers the zip download, and no folder export (that needs the app's dialog).
    await expect.poll(() => selection().getByRole('button', { name: 'Export to folder…' }).count()).toBe(0);
    await screenshot(page, 'gallery-export');

    const downloading = page.waitForEvent('download');
    await selection().getByRole('button', { name: 'Export', exact: true }).click();
    const download = await downloading;
    expect(download.suggestedFilename()).toMatch(new RegExp(`^vgt-export-${COUNT}-images-\\d{8}-\\d{6}\\.zip$`));
    const file = await download.path();
    const files = unzipSync(readFileSync(file));
    const manifest = ExportManifestSchema.parse(JSON.parse(Buffer.from(files[EXPORT_MANIFEST_NAME]!).toString()));
    const pngNames = Object.keys(files).filter((name) => name.endsWith('.png'));
    expect(pngNames).toHaveLength(COUNT);
    expect(manifest.images.map((i) => i.file).sort()).toEqual([...pngNames].sort());
    expect(manifest.images.map((i) => i.params.seed).sort()).toEqual([900, 901, 902]);
    for (const entry of manifest.images) {
      expect(entry.params.prompt).toContain(WORD);
      expect(readReplayParams(files[entry.file]!)).toEqual(entry.params);
    }
    await expect.poll(() => page.getByTestId('export-status').textContent()).toMatch(/^Exported 3 images as /);
    // The download was one-time: the same link answers 404 now.
    const url = new URL(download.url());
    expect(url.pathname).toMatch(/^\/files\/export\/[A-Za-z0-9_-]{22}\.zip$/);
    const token = await page.evaluate(() => document.querySelector<HTMLMetaElement>('meta[name="vgt-token"]')?.content);
    const again = (await fetch(download.url(), { headers: { 'X-VGT-Token': token ?? '' } })).status;
    expect(again).toBe(404);
  });

  it('shows the file path with a copy button in web mode instead of "Open file location"', async () => {
    await page.context().grantPermissions(['clipboard-read', 'clipboard-write']);
    const details = page.getByRole('complementary', { name: 'Details' });
    await expect.poll(() => details.getByTestId('file-path').count()).toBe(1);
    expect(await page.getByRole('button', { name: 'Open file location' }).count()).toBe(0);
    const shown = (await details.getByTestId('file-path').textContent()) ?? '';
    expect(shown.startsWith(inject('studioHome'))).toBe(true);
    expect(shown).toMatch(/\/images\/[0-9a-f]{2}\/[0-9a-f]{64}\.png$/);
    await details.getByRole('button', { name: 'Copy file path' }).click();
    await expect.poll(() => page.evaluate(() => navigator.clipboard.readText())).toBe(shown);
    // Imported images have no timeline: the panel says so (timeline.get answers null) rather than showing an error.
    await expect.poll(() => details.getByTestId('timeline').textContent()).toMatch(/No timeline/);
    expect(await details.getByRole('alert').count()).toBe(0);
    await screenshot(page, 'gallery-detail-web-path');
  });

  it('keeps the execution provider preference across a reload', async () => {
    await go('Settings');
    const select = page.getByRole('combobox', { name: 'Execution provider' });
    await expect.poll(() => select.isEnabled()).toBe(true);
    expect(await select.inputValue()).toBe('auto');
    const labels = await select.locator('option').allTextContents();
    expect(labels[0]).toMatch(/^Automatic/);
    expect(labels).toContain('CPU: available');
    await select.selectOption('cpu');
    await expect.poll(() => page.getByRole('status').filter({ hasText: 'Saved.' }).count()).toBe(1);
    await expect.poll(() => page.getByText(/next model load/).count()).toBeGreaterThan(0);
    await page.reload();
    await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent()).toBe('Settings');
    await expect.poll(() => page.getByRole('combobox', { name: 'Execution provider' }).inputValue()).toBe('cpu');
    await screenshot(page, 'view-settings-provider');
    // Back to automatic, so the other end-to-end files run as they would without this one.
    await page.getByRole('combobox', { name: 'Execution provider' }).selectOption('auto');
    await expect.poll(() => page.getByRole('status').filter({ hasText: 'Saved.' }).count()).toBe(1);
    // The only failed calls so far: the imported images' missing timelines.
    expect(failedCalls.filter((call) => call !== '404 timeline.get')).toEqual([]);
    expect(errors.filter((e) => !/status of 404/.test(e))).toEqual([]);
  });

  it('shows the app-only actions where the host says it can, with a refusal in place', async () => {
    // Doctor answered as the desktop app would: the same UI then offers "Open file location" and "Export to folder…".
    // Web mode's host still refuses both (UNSUPPORTED, 501), and the page must say so where the user clicked.
    await page.route('**/api/doctor', async (route) => {
      const response = await route.fetch();
      const doctor = (await response.json()) as Record<string, unknown>;
      const capabilities = { revealFile: true, chooseLocation: true, downloads: false };
      await route.fulfill({ response, json: { ...doctor, capabilities } });
    });
    try {
      await page.reload();
      await go('Gallery');
      await page.getByRole('searchbox', { name: 'Search' }).fill(WORD);
      await expect.poll(() => images().count()).toBe(COUNT);
      await images().nth(0).locator('button').click();
      await images()
        .nth(COUNT - 1)
        .locator('button')
        .click({ modifiers: ['Shift'] });
      const details = page.getByRole('complementary', { name: 'Details' });
      await details.getByRole('button', { name: 'Open file location' }).click();
      await expect.poll(() => details.getByRole('alert').textContent()).toMatch(/needs the desktop app/);
      expect(await details.getByTestId('file-path').count()).toBe(0);
      await selection().getByRole('button', { name: 'Export to folder…' }).click();
      await expect.poll(() => page.getByRole('alert').filter({ hasText: 'Export failed' }).count()).toBe(1);
      await screenshot(page, 'gallery-app-actions');
    } finally {
      await page.unroute('**/api/doctor');
    }
    expect(
      failedCalls.filter((call) => !['404 timeline.get', '501 library.reveal', '501 library.export'].includes(call)),
    ).toEqual([]);
    expect(errors.filter((e) => !/status of (404|501)/.test(e))).toEqual([]);
  });
});
