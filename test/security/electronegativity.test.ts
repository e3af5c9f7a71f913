// Doyensec's electronegativity on what the app ships. Every finding must be fixed or justified in
// electronegativity.json, and every justification must still match a finding (so the file cannot go stale).
import { cpSync, mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { tempDir } from '../models/helpers';

type Issue = Readonly<{ id: string; file: string; location: { line: number }; description: string }>;
type Run = (options: Record<string, unknown>) => Promise<{ issues: Array<Issue>; errors: Array<{ file: string }> }>;
type Justifications = {
  excludedChecks: Record<string, string>;
  justified: Array<{ id: string; file: string; why: string }>;
};

const root = path.resolve(import.meta.dirname, '..', '..');
// The package's main is its CLI, which parses argv on import: the runner is its programmatic entry.
const run = createRequire(import.meta.url)('@doyensec/electronegativity/dist/runner.js') as Run;
const justifications = JSON.parse(
  readFileSync(path.join(import.meta.dirname, 'electronegativity.json'), 'utf8'),
) as Justifications;

describe('electronegativity', () => {
  it('reports nothing unjustified', { timeout: 120_000 }, async () => {
    const input = tempDir('electronegativity');
    for (const part of ['electron/main', 'electron/preload', 'renderer/index.html', 'package.json']) {
      mkdirSync(path.dirname(path.join(input, part)), { recursive: true });
      cpSync(path.join(root, part), path.join(input, part), { recursive: true });
    }
    // Its messages come from a locale named by LANG; an unknown one (C.UTF-8) leaves them empty.
    vi.stubEnv('LANG', 'en-US');
    const { issues, errors } = await run({
      input,
      isRelative: true,
      excludeFromScan: Object.keys(justifications.excludedChecks),
    });
    vi.unstubAllEnvs();
    expect(errors, 'files it could not parse').toEqual([]);
    const found = issues.map((i) => `${i.id} ${i.file}`);
    const justified = justifications.justified.map((j) => `${j.id} ${j.file}`);
    const unjustified = issues.filter((i) => !justified.includes(`${i.id} ${i.file}`));
    expect(unjustified.map((i) => `${i.id} ${i.file}:${i.location.line} ${i.description}`)).toEqual([]);
    expect(
      justified.filter((j) => !found.includes(j)),
      'justifications that match no finding',
    ).toEqual([]);
    console.log(`electronegativity: ${issues.length} findings, all justified: ${[...new Set(found)].join('; ')}`);
  });
});
