// The reference in docs/ follows the code: api.md is exactly what `npm run docs` makes from the contract, cli.md has a
// section for every `vgt` command naming each of its options, and docs/reference.md lists every npm script.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { COMMANDS } from '../../electron/cli/commands';
import { API_DOCS_FILE, renderApiDocs } from '../../scripts/api-docs';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const read = (file: string): string => readFileSync(path.join(ROOT, file), 'utf8');

describe('docs/', () => {
  it('api.md is what the contract gives (run `npm run docs` after changing electron/common)', () => {
    expect(readFileSync(API_DOCS_FILE, 'utf8') === renderApiDocs(), 'docs/api.md is stale: run `npm run docs`').toBe(
      true,
    );
  });

  it('cli.md documents every command and option', () => {
    const sections = new Map<string, string>();
    for (const part of read('docs/cli.md').split(/^## /m).slice(1)) {
      const name = /^`vgt (\S+?)[`\s]/.exec(part)?.[1];
      if (name) sections.set(name, part);
    }
    const missing: Array<string> = [];
    for (const [name, command] of Object.entries(COMMANDS)) {
      const section = sections.get(name);
      if (section === undefined) {
        missing.push(`## \`vgt ${name}\``);
        continue;
      }
      for (const option of Object.keys(command.options)) {
        if (!section.includes(`--${option}`)) missing.push(`vgt ${name} --${option}`);
      }
    }
    expect(missing).toEqual([]);
  });

  it('docs/reference.md lists every npm script', () => {
    const text = read('docs/reference.md');
    const scripts = Object.keys((JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts);
    const named = (script: string): boolean =>
      text.includes(`npm run ${script}`) || (['start', 'test'].includes(script) && text.includes(`npm ${script}`));
    expect(scripts.filter((script) => !named(script))).toEqual([]);
  });
});
