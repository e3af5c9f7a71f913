import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveHome, resolveInside } from '../../electron/core/paths';

function fixture() {
  const base = mkdtempSync(path.join(tmpdir(), 'vgt-paths-'));
  const root = path.join(base, 'library');
  mkdirSync(path.join(root, 'images'), { recursive: true });
  writeFileSync(path.join(root, 'images', 'a.png'), 'png');
  writeFileSync(path.join(base, 'secret.txt'), 'secret');
  symlinkSync(path.join(base, 'secret.txt'), path.join(root, 'images', 'escape.png'));
  symlinkSync(base, path.join(root, 'up'));
  return { base, root };
}

describe('resolveInside', () => {
  it('resolves files inside the folder', () => {
    const { root } = fixture();
    expect(resolveInside(root, 'images/a.png')).toBe(path.join(root, 'images', 'a.png'));
  });

  it('refuses traversal, absolute paths, NUL bytes and symlinks out', () => {
    const { root, base } = fixture();
    for (const bad of [
      '../secret.txt',
      'images/../../secret.txt',
      decodeURIComponent('..%2Fsecret.txt'),
      path.join(base, 'secret.txt'),
      '/etc/passwd',
      'C:\\Windows\\win.ini',
      '\\\\server\\share',
      'images/a.png\0.txt',
      'images/escape.png',
      'up/secret.txt',
    ]) {
      expect(() => resolveInside(root, bad), bad).toThrow(expect.objectContaining({ code: 'PATH_OUTSIDE_LIBRARY' }));
    }
  });

  it('says NOT_FOUND for a missing file inside', () => {
    const { root } = fixture();
    expect(() => resolveInside(root, 'images/none.png')).toThrow(expect.objectContaining({ code: 'NOT_FOUND' }));
  });
});

describe('resolveHome', () => {
  it('prefers VGT_STUDIO_HOME', () => {
    expect(resolveHome({ VGT_STUDIO_HOME: '/data/vgt' }, 'linux')).toBe('/data/vgt');
  });

  it('uses the per-user app-data folder of each OS', () => {
    expect(resolveHome({ HOME: '/home/u' }, 'linux')).toBe('/home/u/.config/VGT Studio');
    expect(resolveHome({ HOME: '/home/u', XDG_CONFIG_HOME: '/x' }, 'linux')).toBe('/x/VGT Studio');
    expect(resolveHome({ HOME: '/Users/u' }, 'darwin')).toBe('/Users/u/Library/Application Support/VGT Studio');
    expect(resolveHome({ APPDATA: 'C:\\Users\\u\\AppData\\Roaming' }, 'win32')).toContain('VGT Studio');
  });
});
