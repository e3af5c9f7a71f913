import { describe, expect, it } from 'vitest';
import { APP_CSP, WEB_PREFERENCES, isSafeExternalUrl, isTrustedSenderUrl } from '../../electron/main/security';

describe('window security', () => {
  it('ships an isolated, sandboxed renderer without Node', () => {
    expect(WEB_PREFERENCES).toMatchObject({
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
      webviewTag: false,
      allowRunningInsecureContent: false,
    });
  });

  it('has a CSP without unsafe-inline or unsafe-eval', () => {
    expect(APP_CSP).toContain("default-src 'none'");
    expect(APP_CSP).not.toMatch(/unsafe-/);
  });

  it('trusts IPC only from the app origin (or the dev server in development)', () => {
    expect(isTrustedSenderUrl('app://studio/index.html')).toBe(true);
    expect(isTrustedSenderUrl('app://other/index.html')).toBe(false);
    expect(isTrustedSenderUrl('https://evil.example/')).toBe(false);
    expect(isTrustedSenderUrl('file:///etc/passwd')).toBe(false);
    expect(isTrustedSenderUrl('not a url')).toBe(false);
    expect(isTrustedSenderUrl('http://localhost:5173/', 'http://localhost:5173')).toBe(true);
    expect(isTrustedSenderUrl('http://localhost:5174/', 'http://localhost:5173')).toBe(false);
  });

  it('opens only https links externally', () => {
    expect(isSafeExternalUrl('https://example.com')).toBe(true);
    expect(isSafeExternalUrl('file:///bin/sh')).toBe(false);
    expect(isSafeExternalUrl('javascript:alert(1)')).toBe(false);
  });
});
