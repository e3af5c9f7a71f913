// The custom schemes against path tricks: traversal (plain and URL-encoded), absolute and drive paths, NUL bytes,
// backslashes, symlinks out of the folder, and non-image files of the data folder. Nothing outside is ever served.
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { isWithin } from '../../electron/core/paths';
import { resolveAppRequest, resolveLibraryRequest } from '../../electron/main/protocols';
import { tempDir } from '../models/helpers';

function fixture() {
  const base = tempDir('protocols');
  const home = path.join(base, 'home');
  const renderer = path.join(base, 'renderer');
  mkdirSync(path.join(home, 'images', '2026'), { recursive: true });
  mkdirSync(path.join(renderer, 'assets'), { recursive: true });
  writeFileSync(path.join(home, 'images', '2026', 'a.png'), 'png');
  writeFileSync(path.join(home, 'library.db'), 'sqlite');
  writeFileSync(path.join(renderer, 'index.html'), '<!doctype html>');
  writeFileSync(path.join(renderer, 'assets', 'app.js'), '');
  writeFileSync(path.join(base, 'secret.png'), 'secret');
  symlinkSync(path.join(base, 'secret.png'), path.join(home, 'images', 'link.png'));
  symlinkSync(base, path.join(home, 'images', 'up'));
  return { base, home, renderer };
}

const TRICKS = [
  '../secret.png',
  '..%2Fsecret.png',
  '%2e%2e/secret.png',
  '%2E%2E%2Fsecret.png',
  'images/..%2F..%2Fsecret.png',
  'images/%2e%2e/%2e%2e/secret.png',
  '..%5Csecret.png',
  '%2Fetc%2Fpasswd',
  '%2F%2Fserver%2Fshare%2Fx.png',
  'C:%5CWindows%5Cwin.ini',
  'c%3A%2FWindows%2Fwin.ini',
  'images/2026/a.png%00.png',
  'images/link.png',
  'images/up/secret.png',
  '%252e%252e/secret.png',
  '%E0%A4%A',
];

describe('custom protocol confinement', () => {
  it('vgt-file serves images inside the data folder and nothing else', () => {
    const { base, home } = fixture();
    expect(resolveLibraryRequest('vgt-file://images/2026/a.png', home)).toEqual({
      file: path.join(home, 'images', '2026', 'a.png'),
    });
    expect(resolveLibraryRequest('vgt-file://library.db', home)).toMatchObject({ status: 403 });
    expect(resolveLibraryRequest('vgt-file://images/none.png', home)).toMatchObject({ status: 404 });
    for (const trick of TRICKS) {
      for (const url of [`vgt-file://${trick}`, `vgt-file://images/${trick}`, `vgt-file:///${trick}`]) {
        const answer = resolveLibraryRequest(url, home);
        expect(answer, url).toMatchObject({ status: expect.any(Number) });
        expect('file' in answer && !isWithin(home, answer.file), url).toBe(false);
      }
    }
    expect(resolveLibraryRequest('not a url', home)).toMatchObject({ status: 400 });
    expect(resolveLibraryRequest(`vgt-file://${path.join(base, 'secret.png')}`, home)).toMatchObject({
      status: expect.any(Number),
    });
  });

  it('app:// serves the renderer folder only, and only on its own host', () => {
    const { renderer } = fixture();
    expect(resolveAppRequest('app://studio/', renderer)).toEqual({ file: path.join(renderer, 'index.html') });
    expect(resolveAppRequest('app://studio/assets/app.js', renderer)).toEqual({
      file: path.join(renderer, 'assets', 'app.js'),
    });
    expect(resolveAppRequest('app://elsewhere/index.html', renderer)).toMatchObject({ status: 404 });
    for (const trick of TRICKS) {
      const answer = resolveAppRequest(`app://studio/assets/${trick}`, renderer);
      expect(answer, trick).toMatchObject({ status: expect.any(Number) });
    }
  });
});
