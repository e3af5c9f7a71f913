// The gallery's windowed grid with 100,000 synthetic items in real Chromium: first render and scroll frame times.
// Figures go to test-results/gallery-perf.json; the bounds are loose enough for a loaded 2-core CI machine and tight
// enough to catch a grid that renders every item (which takes seconds at this count).
// The page is the test-only benchmark build (renderer/bench), made here for production and served by Vite's preview
// server: it is not part of the app's renderer.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { preview, type PreviewServer } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser, RESULTS_DIR, screenshot, watchPageErrors } from './browser';

const COUNT = 100_000;
const ROOT = path.resolve(import.meta.dirname, '..', '..');
const BENCH_CONFIG = path.join(ROOT, 'renderer', 'bench', 'vite.config.ts');

/** Builds the benchmark page into `outDir` in a child process: NODE_ENV is 'test' here, which would make Svelte's
 * development build, and the figures are of the production one. */
function buildBenchPage(outDir: string): void {
  const vite = path.join(ROOT, 'node_modules', 'vite', 'bin', 'vite.js');
  const args = [vite, 'build', '--config', BENCH_CONFIG, '--outDir', outDir, '--emptyOutDir', '--logLevel', 'warn'];
  const result = spawnSync(process.execPath, args, {
    cwd: ROOT,
    env: { ...process.env, NODE_ENV: 'production' },
    encoding: 'utf8',
  });
  if (result.status !== 0) throw new Error(`the benchmark page did not build:\n${result.stdout}${result.stderr}`);
}

describe('gallery grid with 100,000 items', () => {
  let browser: Browser;
  let page: Page;
  let errors: Array<string>;
  let outDir: string;
  let server: PreviewServer;
  let baseUrl: string;

  beforeAll(async () => {
    outDir = mkdtempSync(path.join(tmpdir(), 'vgt-grid-bench-'));
    buildBenchPage(outDir);
    server = await preview({
      configFile: BENCH_CONFIG,
      logLevel: 'warn',
      build: { outDir },
      preview: { host: '127.0.0.1', port: 0, open: false },
    });
    baseUrl = server.resolvedUrls?.local[0] ?? '';
    expect(baseUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    errors = watchPageErrors(page);
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    if (outDir) rmSync(outDir, { recursive: true, force: true });
  });

  it('renders the first screen quickly and scrolls without long frames', async () => {
    await page.goto(`${baseUrl}?count=${COUNT}`);
    await page.waitForFunction(() => performance.getEntriesByName('bench-first-cells').length > 0);
    const firstRenderMs = await page.evaluate(() => {
      const mark = performance.getEntriesByName('bench-first-cells')[0]!;
      return mark.startTime;
    });
    const cells = await page.getByRole('option').count();
    expect(cells).toBeGreaterThan(10);
    expect(cells).toBeLessThan(200);
    expect(await page.getByRole('option').first().getAttribute('aria-setsize')).toBe(String(COUNT));

    // Two scrolls, timing every animation frame: a fling through the whole list in 240 frames (every frame shows new
    // cells: the worst case), then a steady wheel-like scroll of 40 px per frame (most cells stay).
    const frames = await page.evaluate(async () => {
      const scroller = document.querySelector<HTMLElement>('[role="listbox"]')!;
      const total = scroller.scrollHeight - scroller.clientHeight;
      const timeFrames = async (count: number, position: (i: number) => number) => {
        const times: Array<number> = [];
        let last = performance.now();
        for (let i = 1; i <= count; i++) {
          scroller.scrollTop = position(i);
          await new Promise((resolve) => requestAnimationFrame(resolve));
          const now = performance.now();
          times.push(now - last);
          last = now;
        }
        return times;
      };
      const fling = await timeFrames(240, (i) => (total * i) / 240);
      const atEnd = scroller.scrollTop >= total - 1;
      const start = total / 2;
      const steady = await timeFrames(120, (i) => start + i * 40);
      scroller.scrollTop = total;
      return { fling, steady, atEnd };
    });
    expect(frames.atEnd).toBe(true);
    const stats = (times: Array<number>) => {
      const sorted = [...times].sort((a, b) => a - b);
      const pct = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
      const round = (v: number) => Number(v.toFixed(1));
      return { frames: sorted.length, p50: round(pct(50)), p95: round(pct(95)), max: round(sorted.at(-1)!) };
    };
    const figures = {
      items: COUNT,
      firstRenderMs: Math.round(firstRenderMs),
      renderedCells: cells,
      flingFrameMs: stats(frames.fling),
      steadyFrameMs: stats(frames.steady),
    };
    mkdirSync(RESULTS_DIR, { recursive: true });
    writeFileSync(path.join(RESULTS_DIR, 'gallery-perf.json'), `${JSON.stringify(figures, null, 2)}\n`);
    console.log('gallery grid, 100,000 items:', JSON.stringify(figures));
    await expect.poll(() => page.getByRole('option').last().textContent()).toContain(`#${COUNT}`);
    await screenshot(page, 'gallery-grid-100k');
    expect(firstRenderMs).toBeLessThan(3000);
    expect(figures.flingFrameMs.p95).toBeLessThan(100);
    expect(figures.steadyFrameMs.p95).toBeLessThan(100);
  });

  it('raised no page errors or CSP violations', () => {
    expect(errors).toEqual([]);
  });
});
