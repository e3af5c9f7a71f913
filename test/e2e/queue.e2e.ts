// The queue users can see, in real Chromium against web mode: "Add to queue" three times puts three jobs in the
// library's queue (one runs, the others wait with their place); a waiting job moves up and another is cancelled; a
// Generate behind them waits with a placeholder on the stage.
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { openStudio, screenshot } from './browser';

const WORD = `queuecheck${Date.now().toString(36)}`;

describe('queue panel', () => {
  let browser: Browser;
  let page: Page;
  let errors: Array<string>;
  const panel = () => page.getByTestId('queue-panel');
  const rows = () => panel().getByTestId('queue-item');
  const waitingIds = async (): Promise<Array<string>> =>
    (await rows().evaluateAll((els) =>
      els.filter((el) => el.getAttribute('data-status') === 'queued').map((el) => el.getAttribute('data-id') ?? ''),
    )) as Array<string>;

  beforeAll(async () => {
    ({ browser, page, errors } = await openStudio(inject('baseUrl')));
  });

  afterAll(async () => {
    await browser?.close();
  });

  it('queues jobs behind the running one, shows their places, moves and cancels them', async () => {
    await page.getByRole('textbox', { name: 'Prompt' }).fill(`a red circle ${WORD}`);
    // Jobs must outlast the moves below on a fast idle machine too (40 steps ran in about a second there and the queue
    // drained before the move): one token per group and 800 steps; the test cancels what is left at its end.
    await page.getByLabel('Tokens per step').selectOption('1');
    await page.getByLabel('Steps', { exact: true }).fill('800');
    for (let i = 0; i < 3; i++) await panel().getByTestId('queue-add').click();
    await expect.poll(() => rows().count(), { timeout: 20_000 }).toBeGreaterThanOrEqual(3);
    await expect.poll(() => waitingIds().then((ids) => ids.length)).toBe(2);
    const [first, second] = await waitingIds();
    expect(await panel().locator('[data-status="running"]').count()).toBe(1);
    await screenshot(page, 'queue-three-jobs');

    await panel()
      .getByRole('button', { name: `Move #${second} up` })
      .click();
    await expect.poll(() => waitingIds()).toEqual([second, first]);
    await panel()
      .getByRole('button', { name: `Cancel #${first}` })
      .click();
    // A cancelled job leaves the queue (the Gallery keeps its record).
    await expect.poll(() => panel().locator(`[data-id="${first}"]`).count()).toBe(0);
    await expect.poll(() => waitingIds()).toEqual([second]);
    await screenshot(page, 'queue-moved-cancelled');

    // Generate behind the queue: its job waits there, and the stage says so instead of showing another job's canvas.
    await page.getByRole('button', { name: 'Generate', exact: true }).click();
    await expect.poll(() => panel().getByTestId('queue-current').count(), { timeout: 20_000 }).toBe(1);
    const waiting = page.getByTestId('live-waiting');
    await expect.poll(() => waiting.count()).toBe(1);
    expect(await waiting.textContent()).toMatch(/once the model starts on this job/);
    expect(await page.getByTestId('live-preview').count()).toBe(0);
    expect(await page.getByText(/tokens committed/).count()).toBe(0);
    await screenshot(page, 'queue-generate-waiting');
    await page.getByRole('button', { name: 'Cancel', exact: true }).click();
    await expect.poll(() => page.getByRole('button', { name: 'Generate', exact: true }).count()).toBe(1);
    expect(await waiting.count()).toBe(0);
    // Leave nothing running for the other files. A job cancelled from the stage can still be listed for a moment and
    // leave before its button is clicked, so cancel the first live row until none is left.
    const live = () => panel().locator('[data-status="queued"], [data-status="running"]');
    await expect
      .poll(
        async () => {
          const cancel = live()
            .first()
            .getByRole('button', { name: /^Cancel #/ });
          if ((await cancel.count()) > 0) await cancel.click({ timeout: 2_000 }).catch(() => undefined);
          return live().count();
        },
        { timeout: 30_000 },
      )
      .toBe(0);
    expect(errors).toEqual([]);
  });
});
