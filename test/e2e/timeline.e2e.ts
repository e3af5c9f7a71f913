// The timeline and forks in real Chromium against web mode (the default model): an image generated through the API
// shows its timeline in the Gallery's detail panel; the scrubber shows the image after a group with its token order
// drawn over it; a fork from that group becomes a new library image whose detail says where it came from.
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { api, openStudio, screenshot } from './browser';

const WORD = `timelinecheck${Date.now().toString(36)}`;

describe('timeline and fork', () => {
  let browser: Browser;
  let page: Page;
  let errors: Array<string>;
  const images = () => page.getByRole('listbox', { name: 'Images' }).getByRole('option');
  const details = () => page.getByRole('complementary', { name: 'Details' });

  beforeAll(async () => {
    ({ browser, page, errors } = await openStudio(inject('baseUrl')));
    await api(page, 'generation.generate', { prompt: `two red circles ${WORD}`, seed: 3, previews: false });
    // The generation runs on the host; its image is in the library once a search finds it.
    for (let tries = 0; tries < 600; tries++) {
      if ((await api<{ total: number }>(page, 'library.search', { text: WORD })).total === 1) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  });

  afterAll(async () => {
    await browser?.close();
  });

  it('scrubs the timeline, forks from a group, and shows the lineage of the fork', async () => {
    await page.getByRole('navigation', { name: 'Views' }).getByRole('link', { name: 'Gallery', exact: true }).click();
    await page.getByRole('searchbox', { name: 'Search' }).fill(WORD);
    await expect.poll(() => images().count()).toBe(1);
    await images().nth(0).locator('button').click();
    const panel = details().getByTestId('timeline');
    // one group per token: the shipped model decodes one token per step by default
    await expect.poll(() => panel.getByTestId('timeline-group').textContent()).toBe('64');
    const finalSrc = await panel.getByTestId('timeline-frame').getAttribute('src');

    await panel.getByTestId('timeline-scrubber').fill('5');
    await expect.poll(() => panel.getByTestId('timeline-group').textContent()).toBe('5');
    await expect.poll(() => panel.getByTestId('timeline-frame').getAttribute('src')).toMatch(/^data:image\/png/);
    expect(await panel.getByTestId('timeline-frame').getAttribute('src')).not.toBe(finalSrc);
    await panel.scrollIntoViewIfNeeded();
    await screenshot(page, 'timeline-group-5');

    await panel.getByRole('textbox', { name: 'Fork seed' }).fill('99');
    await panel.getByTestId('fork-button').click();
    await expect
      .poll(() => panel.getByTestId('fork-status').textContent(), { timeout: 60_000 })
      .toMatch(/^Fork saved as #\d+\.$/);
    const forkId = Number(/#(\d+)/.exec((await panel.getByTestId('fork-status').textContent()) ?? '')?.[1]);
    await expect.poll(() => panel.getByTestId('forks').textContent()).toContain(`#${forkId} at group 5`);
    const parentId = Number(await details().getByTestId('gallery-detail').getAttribute('data-id'));

    await expect.poll(() => images().count(), { timeout: 20_000 }).toBe(2);
    await images().nth(0).locator('button').click();
    await expect.poll(() => details().getByTestId('gallery-detail').getAttribute('data-id')).toBe(String(forkId));
    await expect
      .poll(() => details().getByTestId('lineage').textContent())
      .toBe(`forked from #${parentId} at group 5 of 64`);
    // The fork's first five groups are its parent's: the same frame.
    await details().getByTestId('timeline-scrubber').fill('5');
    await expect.poll(() => details().getByTestId('timeline-frame').getAttribute('src')).toMatch(/^data:image\/png/);
    const forkFrame = await details().getByTestId('timeline-frame').getAttribute('src');
    const parentFrame = await api<{ png: string }>(page, 'timeline.frame', { id: parentId, group: 5 });
    expect(forkFrame).toBe(`data:image/png;base64,${parentFrame.png}`);
    await details().getByTestId('timeline').scrollIntoViewIfNeeded();
    await screenshot(page, 'timeline-fork-lineage');
    expect(errors).toEqual([]);
  });
});
