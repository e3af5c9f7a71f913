// Electron's security checklist, checked on the real main and preload modules with Electron replaced by recording
// fakes (its binary cannot run here): what the window gets, what the session grants, where navigation may go, which
// frames IPC answers, what the protocols serve, what the preload exposes, and that updates wait for the user.
import { EventEmitter } from 'node:events';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { APP_CSP, WEB_PREFERENCES } from '../../electron/main/security';
import { wireUpdates, type UpdaterLike } from '../../electron/main/updater';
import { CONTENT_SECURITY_POLICY } from '../../electron/web/server';
import { tempDir } from '../models/helpers';

type Listener = (...args: Array<never>) => unknown;

const fake = vi.hoisted(() => {
  const record = () => {
    const calls = new Map<string, Array<(...args: Array<never>) => unknown>>();
    return {
      calls,
      on(event: string, listener: (...args: Array<never>) => unknown) {
        calls.set(event, [...(calls.get(event) ?? []), listener]);
        return this;
      },
    };
  };
  const app = {
    ...record(),
    isPackaged: false,
    requestSingleInstanceLock: () => true,
    quit: () => undefined,
    getPath: () => '/nonexistent',
    ready: null as null | (() => void),
    whenReady() {
      return new Promise<void>((resolve) => (this.ready = resolve));
    },
  };
  const windows: Array<{ options: Record<string, unknown>; loaded: Array<string> }> = [];
  class BrowserWindow {
    static getAllWindows = () => [];
    loaded: Array<string> = [];
    constructor(readonly options: Record<string, unknown>) {
      windows.push(this);
    }
    once() {}
    loadURL(url: string) {
      this.loaded.push(url);
      return Promise.resolve();
    }
  }
  const handlers = {
    permission: null as null | ((c: unknown, p: string, cb: (ok: boolean) => void) => void),
    check: null as null | ((...a: Array<unknown>) => boolean),
    device: null as null | ((...a: Array<unknown>) => boolean),
  };
  return {
    app,
    windows,
    BrowserWindow,
    handlers,
    ipc: new Map<string, (...args: Array<unknown>) => unknown>(),
    protocols: new Map<string, (request: { url: string }) => Promise<Response>>(),
    schemes: [] as Array<{ scheme: string; privileges: Record<string, boolean> }>,
    exposed: new Map<string, unknown>(),
    invoked: [] as Array<Array<unknown>>,
    fetched: [] as Array<string>,
    opened: [] as Array<string>,
  };
});

vi.mock('electron', () => ({
  app: fake.app,
  BrowserWindow: fake.BrowserWindow,
  clipboard: { writeImage: () => undefined },
  nativeImage: { createFromPath: () => ({ isEmpty: () => true }) },
  dialog: { showMessageBox: () => Promise.resolve({ response: 1 }) },
  ipcMain: {
    handle: (channel: string, handler: (...args: Array<unknown>) => unknown) => fake.ipc.set(channel, handler),
  },
  net: {
    fetch: (url: string) => {
      fake.fetched.push(url);
      return Promise.resolve(new Response('file body', { status: 200 }));
    },
  },
  protocol: {
    registerSchemesAsPrivileged: (schemes: typeof fake.schemes) => fake.schemes.push(...schemes),
    handle: (scheme: string, handler: (request: { url: string }) => Promise<Response>) =>
      fake.protocols.set(scheme, handler),
  },
  session: {
    defaultSession: {
      setPermissionRequestHandler: (h: typeof fake.handlers.permission) => (fake.handlers.permission = h),
      setPermissionCheckHandler: (h: typeof fake.handlers.check) => (fake.handlers.check = h),
      setDevicePermissionHandler: (h: typeof fake.handlers.device) => (fake.handlers.device = h),
    },
  },
  shell: { openExternal: (url: string) => fake.opened.push(url) },
  contextBridge: { exposeInMainWorld: (key: string, api: unknown) => fake.exposed.set(key, api) },
  ipcRenderer: {
    invoke: (...args: Array<unknown>) => {
      fake.invoked.push(args);
      return Promise.resolve({ ok: true, value: null });
    },
    on: () => undefined,
    removeListener: () => undefined,
  },
}));
vi.mock('electron-updater', () => ({ default: { autoUpdater: {} } }));

/** A fake webContents that records listeners the way Electron's EventEmitter would. */
function fakeContents() {
  const emitter = new EventEmitter();
  let openHandler: ((details: { url: string }) => { action: string }) | null = null;
  return {
    on: (event: string, listener: Listener) => emitter.on(event, listener as never),
    setWindowOpenHandler: (handler: typeof openHandler) => (openHandler = handler),
    /** Emits an event with a preventable first argument; true when the app prevented it. */
    fire(event: string, first: Record<string, unknown> = {}, ...rest: Array<unknown>): boolean {
      let prevented = false;
      emitter.emit(event, { ...first, preventDefault: () => (prevented = true) }, ...rest);
      return prevented;
    },
    open: (url: string) => openHandler!({ url }),
  };
}

describe('Electron checklist (main and preload as shipped)', () => {
  let home: string;

  beforeAll(async () => {
    home = tempDir('electron-home');
    writeFileSync(path.join(home, 'a.png'), 'png');
    writeFileSync(path.join(home, 'library.db'), 'db');
    vi.stubEnv('VGT_STUDIO_HOME', home);
    (globalThis as { MAIN_WINDOW_VITE_NAME?: string }).MAIN_WINDOW_VITE_NAME = 'main_window';
    await import('../../electron/main/main');
    await import('../../electron/preload/preload');
    fake.app.ready!();
    await vi.waitUntil(() => fake.windows.length > 0);
  });

  it('opens the window isolated, sandboxed, without Node, on the app origin', () => {
    const [window] = fake.windows;
    expect(window!.options.webPreferences).toEqual({ ...WEB_PREFERENCES, preload: expect.stringMatching(/preload/) });
    expect(WEB_PREFERENCES).toMatchObject({
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      experimentalFeatures: false,
      navigateOnDragDrop: false,
    });
    expect(window!.loaded).toEqual(['app://studio/index.html']);
  });

  it('registers its schemes as secure standard schemes without bypassing CSP or CORS', () => {
    expect(fake.schemes.map((s) => s.scheme).sort()).toEqual(['app', 'vgt-file']);
    for (const { privileges } of fake.schemes) {
      expect(privileges).toEqual({ standard: true, secure: true, supportFetchAPI: true });
    }
  });

  it('uses a CSP without unsafe-inline or unsafe-eval everywhere the page is served', () => {
    const meta = /http-equiv="Content-Security-Policy"\s+content="([^"]+)"/.exec(
      readFileSync(path.resolve(import.meta.dirname, '../../renderer/index.html'), 'utf8'),
    )![1]!;
    for (const csp of [APP_CSP, CONTENT_SECURITY_POLICY, meta]) {
      expect(csp).not.toMatch(/unsafe-|\*/);
      expect(csp).toContain("default-src 'none'");
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain("base-uri 'none'");
    }
  });

  it('denies every permission request and check, and every device', () => {
    for (const permission of ['media', 'geolocation', 'notifications', 'clipboard-read', 'hid', 'openExternal']) {
      const answers: Array<boolean> = [];
      fake.handlers.permission!(null, permission, (ok) => answers.push(ok));
      expect(answers, permission).toEqual([false]);
      expect(fake.handlers.check!(null, permission, 'app://studio', {})).toBe(false);
    }
    expect(fake.handlers.device!({ deviceType: 'usb', origin: 'app://studio' })).toBe(false);
  });

  it('keeps every webContents home: no navigation away, no redirects, no webviews, no new windows', () => {
    const created = fake.app.calls.get('web-contents-created')!;
    expect(created).toHaveLength(1);
    const contents = fakeContents();
    created[0]!({} as never, contents as never);
    expect(contents.fire('will-navigate', { url: 'https://evil.example/' })).toBe(true);
    expect(contents.fire('will-navigate', { url: 'file:///etc/passwd' })).toBe(true);
    expect(contents.fire('will-navigate', { url: 'app://studio/index.html' })).toBe(false);
    expect(contents.fire('will-frame-navigate', { url: 'https://evil.example/' })).toBe(true);
    expect(contents.fire('will-redirect', { url: 'app://studio/index.html' })).toBe(true);
    const webPreferences: Record<string, unknown> = { preload: '/evil.js', nodeIntegration: true };
    expect(contents.fire('will-attach-webview', {}, webPreferences, { src: 'https://evil.example' })).toBe(true);
    expect(webPreferences).toEqual({ nodeIntegration: false, contextIsolation: true });
    expect(contents.open('https://example.com/docs')).toEqual({ action: 'deny' });
    expect(contents.open('file:///bin/sh')).toEqual({ action: 'deny' });
    expect(contents.open('javascript:alert(1)')).toEqual({ action: 'deny' });
    expect(fake.opened).toEqual(['https://example.com/docs']);
  });

  it('answers IPC only from its own top frame, through the typed dispatch', async () => {
    const handle = fake.ipc.get('vgt:call')!;
    expect([...fake.ipc.keys()]).toEqual(['vgt:call']);
    const top = { url: 'app://studio/index.html', parent: null };
    for (const senderFrame of [
      null,
      { url: 'https://evil.example/', parent: null },
      { url: 'file:///index.html', parent: null },
      { url: 'app://studio/index.html', parent: top },
      { url: 'app://elsewhere/index.html', parent: null },
    ]) {
      expect(await handle({ senderFrame }, 'models.list', {})).toMatchObject({
        ok: false,
        error: { code: 'FORBIDDEN' },
      });
    }
    expect(await handle({ senderFrame: top }, 'models.list', {})).toMatchObject({ ok: true });
    // Inherited keys count as extra keys: a payload with a doctored prototype is refused, not half-read.
    expect(await handle({ senderFrame: top }, 'models.list', { __proto__: { polluted: true } })).toMatchObject({
      ok: false,
      error: { code: 'INVALID_PAYLOAD' },
    });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(await handle({ senderFrame: top }, 'nope', {})).toMatchObject({
      ok: false,
      error: { code: 'UNKNOWN_CALL' },
    });
  });

  it('serves vgt-file images from the data folder only, never fetching a refused path', async () => {
    const serve = fake.protocols.get('vgt-file')!;
    const before = fake.fetched.length;
    for (const url of ['vgt-file://..%2F..%2Fetc%2Fpasswd', 'vgt-file://library.db', 'vgt-file://%2Fetc%2Fpasswd']) {
      const response = await serve({ url });
      expect(response.status, url).toBeGreaterThanOrEqual(400);
    }
    expect(fake.fetched.length).toBe(before);
    const ok = await serve({ url: 'vgt-file://a.png' });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('x-content-type-options')).toBe('nosniff');
    expect(fake.fetched.at(-1)).toBe(`file://${path.join(home, 'a.png')}`);
    const app = await fake.protocols.get('app')!({ url: 'app://studio/..%2F..%2F..%2Fpackage.json' });
    expect(app.status).toBeGreaterThanOrEqual(400);
  });

  it('exposes one narrow bridge from the preload, forwarding calls as plain strings', async () => {
    expect([...fake.exposed.keys()]).toEqual(['vgt']);
    const bridge = fake.exposed.get('vgt') as Record<string, (...args: Array<unknown>) => unknown>;
    expect(Object.keys(bridge).sort()).toEqual(['call', 'subscribe']);
    await bridge.call!({ toString: () => 'doctor' }, { a: 1 });
    expect(fake.invoked.at(-1)).toEqual(['vgt:call', 'doctor', { a: 1 }]);
  });
});

describe('updates wait for the user', () => {
  function fakeUpdater() {
    const emitter = new EventEmitter();
    const calls: Array<string> = [];
    const updater: UpdaterLike = {
      autoDownload: true,
      autoInstallOnAppQuit: true,
      on: (event: string, listener: Listener) => emitter.on(event, listener as never),
      checkForUpdates: async () => void calls.push('check'),
      downloadUpdate: async () => void calls.push('download'),
      quitAndInstall: () => void calls.push('install'),
    };
    return { updater, emitter, calls };
  }

  it('downloads and installs only after the user says yes, and keeps quiet when offline', async () => {
    for (const answer of [false, true]) {
      const { updater, emitter, calls } = fakeUpdater();
      const questions: Array<string> = [];
      const logs: Array<string> = [];
      await wireUpdates(updater, {
        ask: async (q) => {
          questions.push(q.yes);
          return answer;
        },
        log: (line) => logs.push(line),
      });
      expect([updater.autoDownload, updater.autoInstallOnAppQuit]).toEqual([false, false]);
      emitter.emit('update-available', { version: '9.9.9' });
      await vi.waitUntil(() => questions.length === 1);
      emitter.emit('update-downloaded', { version: '9.9.9' });
      await vi.waitUntil(() => questions.length === 2);
      await new Promise((resolve) => setTimeout(resolve, 0));
      expect(questions).toEqual(['Download', 'Restart now']);
      expect(calls).toEqual(answer ? ['check', 'download', 'install'] : ['check']);
      emitter.emit('error', new Error('getaddrinfo ENOTFOUND'));
      expect(logs).toEqual(['Update check failed: getaddrinfo ENOTFOUND']);
    }
  });
});
