// Chromium via playwright-core (no browser download): CHROMIUM_PATH, else Debian's /usr/bin/chromium (installed by
// `npm run test:setup`). The flags keep it off the closed network.
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';

export const RESULTS_DIR = path.resolve(import.meta.dirname, '..', '..', 'test-results');

export async function launchBrowser(): Promise<Browser> {
  const executablePath = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
  if (!existsSync(executablePath)) {
    throw new Error(
      `No Chromium at ${executablePath}: run \`npm run test:setup\` (Debian), or set CHROMIUM_PATH to a Chromium ` +
        'or Google Chrome executable.',
    );
  }
  return chromium.launch({
    executablePath,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const file = path.join(RESULTS_DIR, `${name}.png`);
  await page.screenshot({ path: file });
  return file;
}

/** Collects console errors and CSP violations, which an e2e test treats as failures. */
export function watchPageErrors(page: Page): Array<string> {
  const errors: Array<string> = [];
  page.on('pageerror', (error) => errors.push(`pageerror: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(`console: ${message.text()}`);
  });
  // Chromium's console line for a failed resource load (an image, not an API call: tests expect those) does not
  // name the resource; this one does.
  page.on('response', (response) => {
    if (response.status() >= 400 && !new URL(response.url()).pathname.includes('/api/'))
      errors.push(`response: ${response.status()} ${response.url()}`);
  });
  return errors;
}

export type StudioPage = Readonly<{ browser: Browser; page: Page; errors: Array<string> }>;

/** A fresh browser on the studio at 1280×800 in the light scheme, with page errors collected. */
export async function openStudio(url: string): Promise<StudioPage> {
  const browser = await launchBrowser();
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 }, colorScheme: 'light' });
  const errors = watchPageErrors(page);
  await page.goto(url);
  return { browser, page, errors };
}

/** A call to the studio's HTTP API with the page's own token, as the renderer makes it. */
export async function api<T>(page: Page, name: string, body: unknown): Promise<T> {
  return page.evaluate(
    async ([name, body]) => {
      const token = document.querySelector<HTMLMetaElement>('meta[name="vgt-token"]')?.content ?? '';
      const response = await fetch(`./api/${name}`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'X-VGT-Token': token },
        body: JSON.stringify(body),
      });
      return (await response.json()) as T;
    },
    [name, body] as const,
  );
}
