// Generate as a power user checks it, in real Chromium against web mode: one seed reproduces the image (the order
// follows it), the two seed follow-ups run from the result's own settings without touching what is being typed, seeds
// copy, the stage turns into the result viewer with its actions and a filmstrip of runs, the large viewer, and
// Generate stays on screen at 900×600, and a default changed in Settings reaches the form without a reload.
// Screenshots: test-results/trust-*.png.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { api, openStudio, screenshot } from './browser';

const LONG = 90_000;

describe('generate: seeds and stage', () => {
  let browser: Browser;
  let page: Page;
  let errors: Array<string>;

  const prompt = () => page.getByRole('textbox', { name: 'Prompt' });
  const thumbs = () => page.getByRole('list', { name: 'Results' }).getByRole('listitem');
  const seedShown = async () => Number(await page.getByTestId('result-seed').textContent());
  const orderShown = async () => Number(await page.getByTestId('result-order-seed').textContent());
  /** SHA-256 of the bytes the result viewer shows (the saved library file). */
  const shownHash = () =>
    page.getByTestId('result-image').evaluate(async (img: HTMLImageElement) => {
      const bytes = await (await fetch(img.src)).arrayBuffer();
      const digest = await crypto.subtle.digest('SHA-256', bytes);
      return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
    });
  /** Waits for the next result on the stage (one more thumbnail and its saved file shown). */
  const runAndWait = async (start: () => Promise<void>) => {
    const before = await thumbs().count();
    await start();
    await expect.poll(() => thumbs().count(), { timeout: LONG }).toBe(before + 1);
    await expect
      .poll(() => page.getByTestId('result-image').getAttribute('src'), { timeout: LONG })
      .toMatch(/^(?!data:)/);
  };
  const inViewport = async (name: string) => {
    const box = await page.getByRole('button', { name, exact: true }).boundingBox();
    const size = page.viewportSize()!;
    return box !== null && box.y >= 0 && box.y + box.height <= size.height && box.x + box.width <= size.width;
  };

  beforeAll(async () => {
    ({ browser, page, errors } = await openStudio(inject('baseUrl')));
    await page.context().grantPermissions(['clipboard-read', 'clipboard-write']);
  });

  afterAll(async () => {
    await browser?.close();
  });

  it('keeps Generate on screen at 900×600 on first load', async () => {
    await page.setViewportSize({ width: 900, height: 600 });
    await page.goto(`${inject('baseUrl')}#/generate`);
    await expect.poll(() => prompt().count()).toBe(1);
    await prompt().fill('two red circles');
    expect(await inViewport('Generate')).toBe(true);
    await screenshot(page, 'trust-generate-900x600-first-load');
  });

  it('one seed twice gives the same image, its order seed is the seed', async () => {
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.getByLabel('Seed', { exact: true }).fill('42');
    await runAndWait(() => page.getByRole('button', { name: 'Generate' }).click());
    expect([await seedShown(), await orderShown()]).toEqual([42, 42]);
    const first = await shownHash();
    await runAndWait(() => page.getByRole('button', { name: 'Generate' }).click());
    expect(await shownHash()).toBe(first);
    // The stage is the result with its actions on it, above the fold.
    expect(await inViewport('Same order, new seed')).toBe(true);
    await screenshot(page, 'trust-result-1280x800');
  });

  it('the follow-ups run from the result and leave the typed prompt and the form alone', async () => {
    const first = await shownHash();
    await prompt().fill('a prompt I am still typing');
    await runAndWait(() => page.getByRole('button', { name: 'Same order, new seed' }).click());
    expect(await prompt().inputValue()).toBe('a prompt I am still typing');
    expect(await page.getByLabel('Seed', { exact: true }).inputValue()).toBe('42');
    expect(await page.getByRole('spinbutton', { name: 'Order seed' }).inputValue()).toBe('');
    expect(await orderShown()).toBe(42);
    expect(await seedShown()).not.toBe(42);
    expect(await shownHash()).not.toBe(first);
    const variationSeed = await seedShown();
    await runAndWait(() => page.getByRole('button', { name: 'Same seed, new order' }).click());
    expect(await seedShown()).toBe(variationSeed);
    expect(await orderShown()).not.toBe(42);
    expect(await prompt().inputValue()).toBe('a prompt I am still typing');
    // Copy the seed.
    await page.getByRole('button', { name: 'Copy seed', exact: true }).click();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(String(variationSeed));
    expect(await page.getByRole('button', { name: 'Copy seed', exact: true }).textContent()).toMatch(/^Copied/);
  });

  it('shows a running job in the title and the top bar from another view, then groups the run in the filmstrip', async () => {
    const before = await thumbs().count();
    await page.getByLabel('Images').fill('4');
    await page.getByLabel('Seed', { exact: true }).fill('');
    await page.getByLabel('Steps', { exact: true }).fill('150'); // slow enough to watch from another view
    await page.getByRole('button', { name: 'Generate' }).click();
    await page.getByRole('navigation', { name: 'Views' }).getByRole('link', { name: 'Gallery', exact: true }).click();
    await expect.poll(() => page.title(), { timeout: LONG }).toMatch(/^Generating \d+ % · VGT Studio$/);
    expect(await page.getByRole('link', { name: /Generating \d+ %; go to the running job/ }).count()).toBe(1);
    await screenshot(page, 'trust-job-indicator-gallery-1280x800');
    await page.getByRole('link', { name: /go to the running job/ }).click();
    await expect.poll(() => thumbs().count(), { timeout: LONG }).toBe(before + 4);
    await expect.poll(() => page.title()).toBe('VGT Studio');
    await page.getByLabel('Steps', { exact: true }).fill('');
    expect(await page.getByText(/Run \d+ · 4/).count()).toBe(1);
  });

  it('selects a result from the strip onto the stage and opens the large viewer', async () => {
    const total = await thumbs().count();
    // The oldest result is the first seed-42 run.
    await thumbs().last().getByRole('button').click();
    expect(await seedShown()).toBe(42);
    await screenshot(page, 'trust-filmstrip-1280x800');
    await page.getByTestId('result-image').dblclick();
    const dialog = page.getByRole('dialog', { name: 'Large view' });
    await expect.poll(() => dialog.isVisible()).toBe(true);
    expect(await dialog.textContent()).toContain(`${total} of ${total}`);
    await page.keyboard.press('ArrowLeft');
    expect(await dialog.textContent()).toContain(`${total - 1} of ${total}`);
    await page.keyboard.press('+');
    expect(await dialog.textContent()).toContain('150 %');
    await screenshot(page, 'trust-large-view-1280x800');
    await page.keyboard.press('Escape');
    await expect.poll(() => dialog.isVisible()).toBe(false);
  });

  it('edits a result keeping its unmasked pixels, with seed and variants, and continues from the result', async () => {
    await thumbs().last().getByRole('button').click();
    await page.getByRole('toolbar', { name: 'Result actions' }).getByRole('link', { name: 'Edit' }).click();
    const surface = page.getByRole('application');
    await surface.waitFor({ timeout: LONG });
    expect(await page.getByRole('checkbox', { name: /Keep unmasked pixels/ }).isChecked()).toBe(true);
    await page.getByRole('radio', { name: 'Rectangle' }).check();
    const box = (await surface.boundingBox())!;
    await page.mouse.move(box.x + box.width * 0.05, box.y + box.height * 0.05);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.4, box.y + box.height * 0.4, { steps: 5 });
    await page.mouse.up();
    await page.getByRole('textbox', { name: 'Edit prompt' }).fill('a yellow circle');
    await page.getByLabel('Seed', { exact: true }).fill('5');
    await page.getByLabel('Variants').fill('2');
    await screenshot(page, 'trust-edit-settings-1280x800');
    await page.getByRole('button', { name: 'Regenerate masked' }).click();
    await expect.poll(() => page.getByRole('img', { name: 'Edited' }).count(), { timeout: LONG }).toBe(1);
    expect(await page.getByTestId('edit-seed').textContent()).toBe('5');
    expect(await page.getByRole('radiogroup', { name: 'Variant' }).getByRole('radio').count()).toBe(2);
    expect(await page.locator('main').textContent()).toMatch(/edited from #\d+/);
    await screenshot(page, 'trust-edit-result-1280x800');
    await page.setViewportSize({ width: 900, height: 600 });
    await screenshot(page, 'trust-edit-result-900x600');
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.getByRole('button', { name: 'Continue editing this result' }).click();
    await expect.poll(() => page.getByTestId('mask-count').textContent(), { timeout: LONG }).toMatch(/^0 of/);
    await page.getByRole('navigation', { name: 'Views' }).getByRole('link', { name: 'Generate', exact: true }).click();
  });

  it('at 900×600 the result, its actions and Generate are all on screen', async () => {
    await page.setViewportSize({ width: 900, height: 600 });
    await thumbs().first().getByRole('button').click();
    expect(await inViewport('Generate')).toBe(true);
    expect(await inViewport('Same order, new seed')).toBe(true);
    await screenshot(page, 'trust-result-900x600');
    expect(errors).toEqual([]);
  });

  it('a default changed in Settings is in the Generate form at once, and kept by the host, not this browser', async () => {
    await page.setViewportSize({ width: 1280, height: 800 });
    const nav = (name: string) =>
      page.getByRole('navigation', { name: 'Views' }).getByRole('link', { name, exact: true }).click();
    const steps = () => page.getByRole('spinbutton', { name: 'Steps', exact: true });
    // Gone if the page reloads.
    await page.evaluate(() => ((window as unknown as { unreloaded: boolean }).unreloaded = true));
    await nav('Settings');
    await page.getByRole('spinbutton', { name: 'Default steps' }).fill('7');
    await page.getByRole('spinbutton', { name: 'Default steps' }).press('Tab');
    await screenshot(page, 'trust-settings-default-steps');
    await nav('Generate');
    await expect.poll(() => steps().inputValue()).toBe('7');
    expect(await page.evaluate(() => (window as unknown as { unreloaded?: boolean }).unreloaded)).toBe(true);
    // Without this browser's storage, a fresh page still starts from it: the host has it.
    await expect.poll(() => api(page, 'settings.get', {})).toMatchObject({ defaults: { steps: 7 } });
    await page.evaluate(() => window.localStorage.removeItem('vgt.settings'));
    await page.reload();
    await expect.poll(() => steps().inputValue()).toBe('7');
    // Back to the model's defaults, for the files that run after this one.
    await nav('Settings');
    await page.getByRole('button', { name: "Reset to the model's defaults" }).click();
    await nav('Generate');
    await expect.poll(() => steps().inputValue()).toBe('');
    expect(errors).toEqual([]);
  });
});
