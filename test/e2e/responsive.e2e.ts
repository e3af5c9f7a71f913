// Every view at 900×600, 1280×800 and 4K (3840×2160), with real content: the tiny test bundle installed, a batch of
// four generated (the live grid and the results strip), an image in Inspect and Edit, a 2×2 sweep, and a paused model
// download from a loopback server. Nothing may overflow sideways, the main controls must be on screen, and each view is saved
// as test-results/responsive-<view>-<width>x<height>.png to be looked at. Then the download resumes after a reload.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Browser, Locator, Page } from 'playwright-core';
import { openStudio, screenshot } from './browser';
import { sha256, startFileServer, type FileServer } from '../models/file-server';

const TINY_BUNDLE = path.resolve(import.meta.dirname, '..', 'fixtures', 'tiny-bundle');
const LONG = 90_000;
const SIZES = [
  [900, 600],
  [1280, 800],
  [3840, 2160],
] as const;
const BATCH = 4;

describe('responsive layout', () => {
  let browser: Browser;
  let page: Page;
  let errors: Array<string>;
  let server: FileServer;
  let imageId = '';
  let installedTiny = false;

  const heading = () => page.getByRole('heading', { level: 1 });
  const results = () => page.getByRole('list', { name: 'Results' }).getByRole('listitem');
  const downloadRow = () => page.getByRole('list', { name: 'Downloads' }).getByRole('listitem');

  /** The views, how to reach each with content, and the controls it must show. */
  const VIEWS: ReadonlyArray<{
    name: string;
    hash: string;
    /** The screenshot's name when it is not the view's own (a second state of one view). */
    shot?: string;
    /** What to do once the view shows, before it is measured. */
    prepare?: () => Promise<void>;
    ready?: () => Locator;
    controls: () => ReadonlyArray<Locator>;
  }> = [
    {
      // After the run the stage shows the newest result large, with its actions, above the filmstrip.
      name: 'Generate',
      hash: '#/generate',
      ready: () => page.getByRole('figure', { name: 'Result' }).getByTestId('result-image'),
      controls: () => [
        page.getByRole('textbox', { name: 'Prompt' }),
        page.getByLabel('Images', { exact: true }),
        page.getByRole('button', { name: 'Generate' }),
        page.getByRole('figure', { name: 'Result' }).getByTestId('result-image'),
        page.getByRole('toolbar', { name: 'Result actions' }).getByRole('link', { name: 'Inspect' }),
        results().first(),
      ],
    },
    {
      // The same run as it was made: the live grid of four, back on the stage.
      name: 'Generate',
      hash: '#/generate',
      shot: 'generate-live',
      prepare: () => page.getByRole('button', { name: 'Show how it was made' }).click(),
      ready: () => page.getByRole('img', { name: `Live preview, image ${BATCH} of ${BATCH}` }),
      controls: () => [
        page.getByRole('button', { name: 'Generate' }),
        page.getByRole('group', { name: 'Live preview' }),
        results().first(),
      ],
    },
    {
      name: 'Gallery',
      hash: '#/gallery',
      ready: () => page.getByRole('listbox', { name: 'Images' }).getByRole('option').first(),
      controls: () => [
        page.getByRole('searchbox', { name: 'Search' }),
        page.getByRole('listbox', { name: 'Images' }).getByRole('option').first(),
      ],
    },
    {
      name: 'Inspect',
      hash: '', // set once the batch exists: #/inspect?image=<id>
      ready: () => page.getByTestId('psnr'),
      controls: () => [page.getByRole('button', { name: 'Choose image' }), page.getByTestId('psnr')],
    },
    {
      name: 'Edit',
      hash: '',
      ready: () => page.getByRole('application'),
      controls: () => [
        page.getByRole('button', { name: 'Choose image' }),
        page.getByRole('application'),
        page.getByRole('textbox', { name: 'Edit prompt' }),
        page.getByRole('combobox', { name: 'Context' }),
        page.getByRole('button', { name: 'Regenerate masked' }),
      ],
    },
    {
      // The sweep's form over its grid of four, filled in.
      name: 'Sweep',
      hash: '#/sweep',
      ready: () => page.getByTestId('sweep-cell').locator('img'),
      controls: () => [
        page.getByRole('textbox', { name: 'Prompt' }),
        page.getByLabel('Rows values'),
        page.getByRole('button', { name: 'Run sweep' }),
        page.getByTestId('sweep-cell').last(),
      ],
    },
    {
      name: 'Models',
      hash: '#/models',
      ready: () => downloadRow().getByRole('button', { name: 'Resume' }),
      controls: () => [
        page.getByRole('button', { name: 'Import model' }),
        page.getByRole('button', { name: 'Download model' }),
        downloadRow().getByRole('button', { name: 'Resume' }),
      ],
    },
    {
      name: 'Settings',
      hash: '#/settings',
      controls: () => [page.getByLabel('Theme')],
    },
  ];

  const go = async (hash: string, name: string) => {
    await page.evaluate((h) => (window.location.hash = h), hash);
    await expect.poll(() => heading().textContent()).toBe(name);
  };

  beforeAll(async () => {
    server = await startFileServer();
    ({ browser, page, errors } = await openStudio(inject('baseUrl')));
  });

  it('sets up content: a model, a paused download, a generated batch of four, a sweep', async () => {
    // A model: the tiny test bundle, unless another test file of this run installed it already.
    await go('#/models', 'Models');
    await expect.poll(() => page.getByRole('button', { name: 'Import model' }).count()).toBe(1);
    await page.waitForTimeout(500);
    if (!((await page.locator('main').textContent()) ?? '').includes('VGT tiny')) {
      installedTiny = true;
      await page.getByLabel('Folder').fill(TINY_BUNDLE);
      await page.getByLabel('How').selectOption('link');
      await page.getByRole('button', { name: 'Import model' }).click();
      await expect.poll(() => page.getByRole('table').textContent(), { timeout: LONG }).toContain('VGT tiny');
    }

    // A download of the same bundle under another id, from a server that stalls mid-file, paused there.
    const manifest = JSON.parse(readFileSync(path.join(TINY_BUNDLE, 'vgt-bundle.json'), 'utf8')) as {
      files: Record<string, unknown>;
    };
    const text = JSON.stringify({ ...manifest, id: 'vgt-tiny-download', name: 'VGT tiny (downloaded)' });
    server.put('/bundle/vgt-bundle.json', Buffer.from(text));
    for (const name of Object.keys(manifest.files)) {
      server.put(`/bundle/${name}`, readFileSync(path.join(TINY_BUNDLE, name)));
    }
    server.plan('/bundle/lm_step.onnx', { kind: 'stall', after: 30_000 });
    await page.getByLabel('URL of the vgt-bundle.json').fill(server.url('/bundle/vgt-bundle.json'));
    await page.getByLabel('SHA-256 of the manifest').fill(sha256(text));
    await page.getByRole('button', { name: 'Download model' }).click();
    await expect
      .poll(() => server.log.some((r) => r.path === '/bundle/lm_step.onnx' && r.sent > 0), { timeout: LONG })
      .toBe(true);
    await expect.poll(() => downloadRow().getByTestId('download-phase').textContent()).toBe('Downloading');
    await downloadRow().getByRole('button', { name: 'Pause' }).click();
    await expect
      .poll(() => downloadRow().getByTestId('download-phase').textContent(), { timeout: LONG })
      .toBe('Paused');

    // A batch of four, slow enough to catch live: every image gets its own live canvas and its own previews.
    await go('#/generate', 'Generate');
    const before = await results().count();
    await page.getByRole('textbox', { name: 'Prompt' }).fill('a red circle and a blue square on a grey floor');
    await page.getByLabel('Images', { exact: true }).fill(String(BATCH));
    await page.getByLabel('Tokens per step').selectOption('2');
    await page.getByLabel('Steps', { exact: true }).fill('12');
    await page.getByRole('button', { name: 'Generate' }).click();
    // Checked on every frame: on a fast machine the run can end (and the result take the stage) between two polls.
    const distinct = await page.waitForFunction(
      (n) => {
        const imgs = [...document.querySelectorAll<HTMLImageElement>('[data-testid="live-preview"]')];
        return imgs.length === n ? new Set(imgs.map((img) => img.src)).size : null;
      },
      BATCH,
      { timeout: LONG, polling: 'raf' },
    );
    expect(await distinct.jsonValue()).toBe(BATCH);
    await screenshot(page, 'generate-batch-running');
    await expect.poll(() => results().count(), { timeout: LONG }).toBe(before + BATCH);
    await screenshot(page, 'generate-batch-done');
    // The newest result is on the stage, with its actions (Inspect among them).
    const href = await page
      .getByRole('figure', { name: 'Result' })
      .getByRole('toolbar', { name: 'Result actions' })
      .getByRole('link', { name: 'Inspect' })
      .getAttribute('href');
    imageId = /image=(\d+)/.exec(href ?? '')?.[1] ?? '';
    expect(imageId).not.toBe('');

    // A small sweep: its grid is the widest thing the Sweep view shows.
    await go('#/sweep', 'Sweep');
    await page.getByRole('textbox', { name: 'Prompt' }).fill('a red circle left of a blue square');
    await page.getByLabel('Columns setting').selectOption('tokensPerStep');
    await page.getByLabel('Columns values').fill('4, 16');
    await page.getByLabel('Rows setting').selectOption('seed');
    await page.getByLabel('Rows values').fill('0, 1');
    await page.getByRole('button', { name: 'Run sweep' }).click();
    await expect
      .poll(() => page.getByTestId('sweep-status').textContent(), { timeout: LONG })
      .toMatch(/^\s*4 images in /);
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  for (const [width, height] of SIZES) {
    it(`shows every view at ${width}×${height} without sideways overflow, controls on screen`, async () => {
      await page.setViewportSize({ width, height });
      for (const view of VIEWS) {
        const hash = view.hash || `#/${view.name.toLowerCase()}?image=${imageId}`;
        await go(hash, view.name);
        await view.prepare?.();
        if (view.ready) await view.ready().first().waitFor({ timeout: LONG });
        await page.waitForTimeout(300);
        await screenshot(page, `responsive-${view.shot ?? view.name.toLowerCase()}-${width}x${height}`);
        const overflow = await page.evaluate(() => {
          const main = document.querySelector('main')!;
          return {
            page: document.scrollingElement!.scrollWidth - window.innerWidth,
            main: main.scrollWidth - main.clientWidth,
          };
        });
        expect(overflow.page, `${view.name} at ${width}×${height}: page`).toBeLessThanOrEqual(0);
        expect(overflow.main, `${view.name} at ${width}×${height}: main`).toBeLessThanOrEqual(0);
        for (const control of view.controls()) {
          await control.scrollIntoViewIfNeeded();
          const box = await control.boundingBox();
          expect(box, `${view.name} at ${width}×${height}: ${control.toString()}`).not.toBeNull();
          expect(box!.x).toBeGreaterThanOrEqual(0);
          expect(box!.x + box!.width).toBeLessThanOrEqual(width);
          expect(box!.width).toBeGreaterThan(0);
        }
      }
    });
  }

  it('uses a 4K screen: the text and the live grid grow with it', async () => {
    await page.setViewportSize({ width: 3840, height: 2160 });
    await go('#/generate', 'Generate');
    await page.getByRole('button', { name: 'Show how it was made' }).click();
    const grid = await page.getByRole('group', { name: 'Live preview' }).boundingBox();
    expect(grid!.width).toBeGreaterThan(1200);
    expect(await page.evaluate(() => parseFloat(getComputedStyle(document.documentElement).fontSize))).toBeGreaterThan(
      15,
    );
    await page.setViewportSize({ width: 1280, height: 800 });
  });

  it('resumes the paused download after a reload and installs it, verified', async () => {
    await page.reload();
    await go('#/models', 'Models');
    await expect
      .poll(() => downloadRow().getByTestId('download-phase').textContent(), { timeout: LONG })
      .toBe('Paused');
    expect(await downloadRow().getByTestId('download-bytes').textContent()).toMatch(/of .*\(\d+%\)/);
    await downloadRow().getByRole('button', { name: 'Resume' }).click();
    await expect
      .poll(() => page.getByRole('status').allTextContents(), { timeout: LONG })
      .toContain('Downloaded and verified VGT tiny (downloaded).');
    await expect.poll(() => page.getByRole('table').textContent()).toContain('VGT tiny (downloaded)');
    expect(await downloadRow().count()).toBe(0);
    const resumed = server.log.filter((r) => r.path === '/bundle/lm_step.onnx').at(-1);
    expect(resumed).toMatchObject({ status: 206 });
  });

  it('raised no page errors or CSP violations', () => {
    // The one failed request is the paused download's own call: it ends with CANCELLED (409), which Chromium logs.
    expect(errors).toEqual(['console: Failed to load resource: the server responded with a status of 409 (Conflict)']);
  });

  // The studio is shared by every e2e file: take the tiny model back out if this file put it in (studio.e2e.ts
  // imports it itself and would meet MODEL_EXISTS).
  it('leaves the shared studio without the model it installed', async () => {
    if (!installedTiny) return;
    await go('#/models', 'Models');
    page.once('dialog', (dialog) => void dialog.accept());
    await page
      .getByRole('row')
      .filter({ hasText: 'VGT tiny (random init' })
      .getByRole('button', { name: 'Remove' })
      .click();
    await expect
      .poll(() => page.getByRole('table').textContent(), { timeout: LONG })
      .not.toContain('VGT tiny (random init');
  });
});
