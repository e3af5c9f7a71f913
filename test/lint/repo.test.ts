// The repository stands alone: no file points at specs outside it, and every file an npm script names exists.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '..', '..');

/** Tracked files and new ones git does not ignore (so a file is checked before its first commit); null outside git. */
function repoFiles(): Array<string> | null {
  try {
    const out = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
      cwd: ROOT,
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    });
    return [...new Set(out.split('\0').filter(Boolean))];
  } catch {
    return null;
  }
}

function textOf(file: string): string | null {
  const full = path.join(ROOT, file);
  if (!existsSync(full) || !statSync(full).isFile() || statSync(full).size > 4 * 1024 * 1024) return null;
  const bytes = readFileSync(full);
  if (bytes.subarray(0, 8192).includes(0)) return null;
  return bytes.toString('utf8');
}

// Spelled in pieces so that this file does not match itself.
const SHARED = 'shared';
const OUTSIDE = [`../${SHARED}`, `/${SHARED}/`, `shapes-world${'.md'}`, `interfaces${'.md'}`];

const files = repoFiles();

describe('the repository stands alone', () => {
  it.skipIf(files === null)('has no reference to specs outside the repo', () => {
    const found: Array<string> = [];
    for (const file of files ?? []) {
      const text = textOf(file);
      if (text === null) continue;
      text.split('\n').forEach((line, i) => {
        const where = `${file}:${i + 1}: ${line.trim().slice(0, 120)}`;
        // The project's own reference of commands, variables and bench keys is docs/reference.md.
        if (OUTSIDE.some((needle) => line.includes(needle))) found.push(where);
      });
    }
    expect(found, 'point these at the docs in the repo (docs/, native-models/vgt/shapes/SHAPES_WORLD.md)').toEqual([]);
  });

  it('names only files that exist in its npm scripts', () => {
    const scripts = (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: object })
      .scripts as Record<string, string>;
    const missing: Array<string> = [];
    for (const [name, command] of Object.entries(scripts)) {
      for (const match of command.matchAll(
        /(?<=^|\s)((?:\.\/)?[\w.-]+(?:\/[\w.-]+)+\.(?:mjs|cjs|js|ts|json))(?=\s|$)/g,
      )) {
        if (!existsSync(path.join(ROOT, match[1]!))) missing.push(`${name}: ${match[1]}`);
      }
    }
    expect(missing).toEqual([]);
  });
});
