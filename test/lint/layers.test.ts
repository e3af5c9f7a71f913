// The lint rules that keep the layers apart, checked on code that breaks them (ESLint's API, real config).
import { ESLint } from 'eslint';
import { beforeAll, describe, expect, it } from 'vitest';

const eslint = new ESLint({ cwd: process.cwd() });

async function restrictedImports(filePath: string, code: string): Promise<number> {
  const [result] = await eslint.lintText(code, { filePath });
  return result!.messages.filter((m) => m.ruleId === 'no-restricted-imports').length;
}

describe('layer rules', () => {
  // The first lint loads the TypeScript parser and the whole config: seconds on a busy machine.
  beforeAll(() => eslint.lintText('export {};\n', { filePath: 'electron/common/x.ts' }), 120_000);

  it('keeps electron/common pure', async () => {
    expect(await restrictedImports('electron/common/x.ts', "import fs from 'node:fs';\nexport const a = fs;\n")).toBe(
      1,
    );
    expect(
      await restrictedImports('electron/common/x.ts', "import { app } from 'electron';\nexport const a = app;\n"),
    ).toBe(1);
    expect(
      await restrictedImports('electron/common/x.ts', "import { a } from '../core/paths';\nexport const b = a;\n"),
    ).toBe(1);
    expect(await restrictedImports('electron/common/x.ts', "import { z } from 'zod';\nexport const a = z;\n")).toBe(0);
  });

  it('lets only the engine import onnxruntime and only the store import better-sqlite3', async () => {
    const ort = "import ort from 'onnxruntime-node';\nexport const a = ort;\n";
    const sql = "import Database from 'better-sqlite3';\nexport const a = Database;\n";
    expect(await restrictedImports('electron/engine/ort.ts', ort)).toBe(0);
    expect(await restrictedImports('electron/core/x.ts', ort)).toBe(1);
    expect(await restrictedImports('electron/store/x.ts', ort)).toBe(1);
    expect(await restrictedImports('electron/store/x.ts', sql)).toBe(0);
    expect(await restrictedImports('electron/engine/x.ts', sql)).toBe(1);
    expect(await restrictedImports('electron/web/x.ts', sql)).toBe(1);
  });

  it('gives onnxruntime one door inside the engine (electron/engine/ort.ts)', async () => {
    const ort = "import ort from 'onnxruntime-node';\nexport const a = ort;\n";
    const common = "import { Tensor } from 'onnxruntime-common';\nexport const a = Tensor;\n";
    expect(await restrictedImports('electron/engine/ort.ts', ort)).toBe(0);
    expect(await restrictedImports('electron/engine/ort.ts', common)).toBe(0);
    expect(await restrictedImports('electron/engine/x.ts', ort)).toBe(1);
    expect(await restrictedImports('electron/engine/x.ts', common)).toBe(1);
    // the door keeps the engine's other bans
    expect(
      await restrictedImports('electron/engine/ort.ts', "import { a } from '../store/db';\nexport const b = a;\n"),
    ).toBe(1);
    expect(
      await restrictedImports('electron/engine/ort.ts', "import { app } from 'electron';\nexport const a = app;\n"),
    ).toBe(1);
  });

  it('lets only the image codec (electron/platform/image.ts) import sharp', async () => {
    const code = "import sharp from 'sharp';\nexport const a = sharp;\n";
    expect(await restrictedImports('electron/platform/image.ts', code)).toBe(0);
    expect(await restrictedImports('electron/platform/x.ts', code)).toBe(1);
    expect(await restrictedImports('electron/engine/x.ts', code)).toBe(1);
    expect(await restrictedImports('electron/store/x.ts', code)).toBe(1);
    expect(await restrictedImports('electron/core/x.ts', code)).toBe(1);
    expect(await restrictedImports('electron/bench/x.ts', code)).toBe(1);
    expect(await restrictedImports('electron/main/x.ts', code)).toBe(1);
    expect(await restrictedImports('electron/common/x.ts', code)).toBe(1);
    // build scripts and tests use sharp directly (icons, reference pixels)
    expect(await restrictedImports('scripts/x.mjs', code)).toBe(0);
    expect(await restrictedImports('test/x.test.ts', code)).toBe(0);
  });

  it('keeps the image codec inside its layer', async () => {
    const from = (spec: string) => `import { a } from '${spec}';\nexport const b = a;\n`;
    expect(await restrictedImports('electron/platform/image.ts', from('../engine/bundle'))).toBe(1);
    expect(await restrictedImports('electron/platform/image.ts', from('../common/errors'))).toBe(0);
  });

  it('keeps Electron in main and preload', async () => {
    const code = "import { app } from 'electron';\nexport const a = app;\n";
    expect(await restrictedImports('electron/main/x.ts', code)).toBe(0);
    expect(await restrictedImports('electron/core/x.ts', code)).toBe(1);
    expect(await restrictedImports('electron/engine/x.ts', code)).toBe(1);
  });

  it('lets the renderer reach the host only through electron/common', async () => {
    expect(
      await restrictedImports(
        'renderer/src/x.ts',
        "import { createStudio } from '../../electron/core/studio';\nexport const a = createStudio;\n",
      ),
    ).toBe(1);
    expect(await restrictedImports('renderer/src/x.ts', "import fs from 'node:fs';\nexport const a = fs;\n")).toBe(1);
    expect(
      await restrictedImports(
        'renderer/src/x.ts',
        "import { calls } from '../../electron/common/contract';\nexport const a = calls;\n",
      ),
    ).toBe(0);
  });

  it('lets a host folder import only lower layers', async () => {
    const from = (spec: string) => `import { a } from '${spec}';\nexport const b = a;\n`;
    // siblings of one layer
    expect(await restrictedImports('electron/engine/x.ts', from('../store/db'))).toBe(1);
    expect(await restrictedImports('electron/store/x.ts', from('../engine/bundle'))).toBe(1);
    // upward
    expect(await restrictedImports('electron/store/x.ts', from('../core/dispatch'))).toBe(1);
    expect(await restrictedImports('electron/engine/x.ts', from('../core/paths'))).toBe(1);
    expect(await restrictedImports('electron/platform/x.ts', from('../engine/bundle'))).toBe(1);
    expect(await restrictedImports('electron/core/handlers/x.ts', from('../../web/server'))).toBe(1);
    expect(await restrictedImports('electron/main/x.ts', from('../cli/main'))).toBe(1);
    expect(await restrictedImports('electron/preload/x.ts', from('../core/paths'))).toBe(1);
    // downward is fine
    expect(await restrictedImports('electron/engine/x.ts', from('../platform/threads'))).toBe(0);
    expect(await restrictedImports('electron/core/handlers/x.ts', from('../../engine/bundle'))).toBe(0);
    expect(await restrictedImports('electron/cli/commands/x.ts', from('../../web/server'))).toBe(0);
    expect(await restrictedImports('electron/preload/x.ts', from('../common/contract'))).toBe(0);
  });
});
