// The prompt box and the result's image actions in real Chromium against web mode (the default model): the token
// counter follows the typing and warns over the model's limit, earlier prompts complete from the library with the
// keyboard, a preset saves and applies the prompt with its settings (kept by the host), the result copies to the
// clipboard as a PNG and drags out as a download, and the result viewer scrubs its timeline. Screenshots:
// test-results/comfort-*.png.
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { api, openStudio, screenshot } from './browser';

const LONG = 90_000;
const WORD = `comfort${Date.now().toString(36)}`;
const EARLIER = `three green triangles ${WORD}`;

describe('prompt comfort', () => {
  let browser: Browser;
  let page: Page;
  let errors: Array<string>;

  const prompt = () => page.getByRole('textbox', { name: 'Prompt' });
  const history = () => page.getByRole('listbox', { name: 'Earlier prompts' });
  const viewer = () => page.getByRole('figure', { name: 'Result' });

  beforeAll(async () => {
    ({ browser, page, errors } = await openStudio(inject('baseUrl')));
    await page.context().grantPermissions(['clipboard-read', 'clipboard-write']);
    await api(page, 'generation.generate', { prompt: EARLIER, seed: 5, previews: false });
    for (let tries = 0; tries < 600; tries++) {
      if ((await api<{ total: number }>(page, 'library.search', { text: WORD })).total === 1) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await page.goto(`${inject('baseUrl')}#/generate`);
  });

  afterAll(async () => {
    await browser?.close();
  });

  it('counts the prompt in the model’s tokens and warns over its limit', async () => {
    await prompt().fill('two red circles');
    const count = await api<{ tokens: number; limit: number }>(page, 'generation.countTokens', {
      prompt: 'two red circles',
    });
    await expect
      .poll(() => page.getByTestId('token-count').textContent())
      .toBe(`${count.tokens} / ${count.limit} tokens`);
    expect(await page.getByTestId('token-warning').count()).toBe(0);

    // 400 tokens with the default model's phrase tokens (5 a repeat), over its limit of 256
    await prompt().fill('a red circle and a blue square '.repeat(80));
    await expect.poll(() => page.getByTestId('token-warning').count()).toBe(1);
    const [tokens, limit] = ((await page.getByTestId('token-count').textContent()) ?? '').split(/ \/ | tokens/);
    expect(Number(tokens)).toBeGreaterThan(Number(limit));
    expect(await page.getByTestId('token-warning').textContent()).toContain(`over the model's limit of ${limit}`);
    expect(await prompt().getAttribute('aria-invalid')).toBe('true');
  });

  it('completes from earlier prompts with the keyboard', async () => {
    await prompt().fill('');
    await prompt().pressSequentially(WORD.slice(0, 10), { delay: 20 });
    await expect.poll(() => history().isVisible()).toBe(true);
    const options = history().getByRole('option');
    expect(await options.allTextContents()).toEqual([EARLIER]);
    expect(await prompt().getAttribute('aria-activedescendant')).toBeNull();
    await screenshot(page, 'comfort-completion');

    await prompt().press('ArrowDown');
    expect(await options.nth(0).getAttribute('aria-selected')).toBe('true');
    expect(await prompt().getAttribute('aria-activedescendant')).toBe(await options.nth(0).getAttribute('id'));
    await prompt().press('Enter');
    expect(await prompt().inputValue()).toBe(EARLIER);
    expect(await history().isVisible()).toBe(false);

    await prompt().fill('three');
    await prompt().press('End');
    await prompt().press('ArrowDown');
    await expect.poll(() => history().isVisible()).toBe(true);
    await prompt().press('Escape');
    expect(await history().isVisible()).toBe(false);
    expect(await prompt().inputValue()).toBe('three');
  });

  it('saves the prompt and settings as a preset, and applies it back', async () => {
    await prompt().fill('two red circles above a blue square');
    await page.getByLabel('Seed', { exact: true }).fill('7');
    await page.getByLabel('Guidance', { exact: true }).fill('5');
    const presets = page.getByTestId('presets');
    await presets.locator('summary').click();
    await presets.getByRole('textbox', { name: 'Preset name' }).fill('Circles over a square');
    await presets.getByRole('button', { name: 'Save as preset' }).click();
    await expect
      .poll(() => presets.getByTestId('preset-status').textContent())
      .toBe('Saved preset “Circles over a square”.');
    const stored = await api<{ presets?: Array<{ name: string; prompt: string; settings: Record<string, unknown> }> }>(
      page,
      'settings.get',
      {},
    );
    expect(stored.presets).toEqual([
      {
        name: 'Circles over a square',
        prompt: 'two red circles above a blue square',
        settings: expect.objectContaining({ seed: 7, cfg: 5 }),
      },
    ]);

    await prompt().fill('something else');
    await page.getByLabel('Seed', { exact: true }).fill('');
    await page.getByLabel('Guidance', { exact: true }).fill('');
    await presets.getByRole('combobox', { name: 'Preset' }).selectOption('Circles over a square');
    expect(await prompt().inputValue()).toBe('two red circles above a blue square');
    expect(await page.getByLabel('Seed', { exact: true }).inputValue()).toBe('7');
    expect(await page.getByLabel('Guidance', { exact: true }).inputValue()).toBe('5');
  });

  it('copies the result as a PNG, drags it out as a download, and scrubs its timeline', async () => {
    await page.getByRole('button', { name: 'Generate' }).click();
    await expect
      .poll(() => page.getByTestId('result-image').getAttribute('src'), { timeout: LONG })
      .toMatch(/^\.\/files\//);
    const image = page.getByTestId('result-image');
    const fileBytes = await image.evaluate(async (img: HTMLImageElement) => [
      ...new Uint8Array(await (await fetch(img.src)).arrayBuffer()),
    ]);

    await viewer().getByRole('button', { name: 'Copy image' }).click();
    await expect.poll(() => viewer().getByTestId('copy-image').textContent()).toContain('Copied');
    const copied = await page.evaluate(async () => {
      const [item] = await navigator.clipboard.read();
      const blob = await item!.getType('image/png');
      return { types: item!.types, png: [...new Uint8Array(await blob.arrayBuffer()).slice(0, 8)] };
    });
    expect(copied.types).toContain('image/png');
    // The clipboard holds a PNG (Chromium re-encodes it, so the signature is what stays the same).
    expect(copied.png).toEqual([137, 80, 78, 71, 13, 10, 26, 10]);
    expect(fileBytes.slice(0, 8)).toEqual(copied.png);

    // A real mouse drag: the page's dragstart hands Chromium a download of the library file.
    await page.evaluate(() => {
      document.addEventListener('dragstart', (event) => {
        document.body.dataset.dragged = event.dataTransfer?.getData('DownloadURL') ?? '';
      });
    });
    const box = (await image.boundingBox())!;
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width / 2 + 40, box.y + box.height / 2 + 40, { steps: 5 });
    await page.mouse.up();
    // Dropped back on the studio it is not an import (no "only PNG images" toast).
    expect(await page.getByText('Only PNG images made by VGT Studio').count()).toBe(0);
    const dragged = await page.evaluate(() => document.body.dataset.dragged ?? '');
    const src = await image.getAttribute('src');
    const id = /image=(\d+)/.exec((await viewer().getByRole('link', { name: 'Edit' }).getAttribute('href')) ?? '')?.[1];
    expect(dragged).toBe(`image/png:vgt-${id}.png:${new URL(src!, inject('baseUrl')).href}`);

    await viewer().getByRole('button', { name: 'Timeline' }).click();
    const panel = viewer().getByTestId('timeline');
    await expect.poll(() => panel.getByTestId('timeline-group').textContent()).toBe('64');
    await panel.getByTestId('timeline-scrubber').fill('5');
    await expect.poll(() => panel.getByTestId('timeline-group').textContent()).toBe('5');
    await expect.poll(() => panel.getByTestId('timeline-frame').getAttribute('src')).toMatch(/^data:image\/png/);
    expect(await panel.locator('.cells span.latest').count()).toBeGreaterThan(0);
    expect(await panel.getByTestId('fork-button').textContent()).toBe('Fork from group 5');
    await screenshot(page, 'comfort-timeline-1280x800');
    await page.setViewportSize({ width: 900, height: 600 });
    await panel.getByTestId('timeline-scrubber').scrollIntoViewIfNeeded();
    await screenshot(page, 'comfort-timeline-900x600');
    await page.setViewportSize({ width: 1280, height: 800 });
    expect(errors).toEqual([]);
  });
});
