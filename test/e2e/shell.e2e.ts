// The app frame in real Chromium against web mode: every view by its accessible name, shortcuts, theme, status bar.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { openStudio, screenshot } from './browser';

const VIEWS = ['Generate', 'Gallery', 'Inspect', 'Edit', 'Sweep', 'Models', 'Settings'];

describe('studio shell', () => {
  let browser: Browser;
  let page: Page;
  let errors: Array<string>;

  beforeAll(async () => {
    ({ browser, page, errors } = await openStudio(inject('baseUrl')));
  });

  afterAll(async () => {
    await browser?.close();
  });

  it('opens every view from the navigation', async () => {
    const nav = page.getByRole('navigation', { name: 'Views' });
    for (const name of VIEWS) {
      await nav.getByRole('link', { name, exact: true }).click();
      await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent()).toBe(name);
      await expect.poll(() => nav.getByRole('link', { name, exact: true }).getAttribute('aria-current')).toBe('page');
      await screenshot(page, `view-${name.toLowerCase()}`);
    }
  });

  it('shows the provider and model from doctor in the status bar', async () => {
    const status = page.getByRole('contentinfo', { name: 'Status' });
    await expect
      .poll(() => status.getByTestId('status-ep').textContent())
      .toMatch(/Provider: (CPU|WEBGPU|CUDA|DML|COREML)/);
    await expect.poll(() => status.getByTestId('status-model').textContent()).toMatch(/^Model: /);
  });

  it('switches views with the keyboard shortcuts 1–7', async () => {
    await page.locator('body').click({ position: { x: 5, y: 300 } });
    for (const [index, name] of VIEWS.entries()) {
      await page.keyboard.press(String(index + 1));
      await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent()).toBe(name);
    }
  });

  it('follows the OS theme and keeps an override', async () => {
    await page.goto(`${inject('baseUrl')}#/settings`);
    expect(await page.evaluate(() => document.documentElement.dataset.theme)).toBe('light');
    await page.emulateMedia({ colorScheme: 'dark' });
    await expect.poll(() => page.evaluate(() => document.documentElement.dataset.theme)).toBe('dark');
    await page.getByLabel('Theme').selectOption('light');
    await expect.poll(() => page.evaluate(() => document.documentElement.dataset.theme)).toBe('light');
    await page.reload();
    await expect.poll(() => page.evaluate(() => document.documentElement.dataset.theme)).toBe('light');
    await page.getByLabel('Theme').selectOption('dark');
    await screenshot(page, 'settings-dark');
    await page.getByLabel('Theme').selectOption('system');
  });

  it('raised no page errors or CSP violations', () => {
    expect(errors).toEqual([]);
  });
});
