// Shared by the store tests: temporary data folders, replay parameters, and small real PNGs.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import type { ReplayParams } from '../../electron/common/api/library';

export function tempHome(prefix = 'vgt-store-'): Readonly<{ home: string; cleanup: () => void }> {
  const home = mkdtempSync(path.join(tmpdir(), prefix));
  return { home, cleanup: () => rmSync(home, { recursive: true, force: true }) };
}

export function params(overrides: Partial<ReplayParams> = {}): ReplayParams {
  return {
    kind: 'generate',
    prompt: 'a red circle',
    negativePrompt: null,
    modelId: 'shapes-v1',
    bundleHash: 'b'.repeat(64),
    provider: 'cpu',
    seed: 1,
    orderSeed: 7,
    order: 'random',
    tokensPerStep: 4,
    steps: 30,
    cfg: 4.5,
    cfgSchedule: 'linear',
    width: 32,
    height: 32,
    sourceImage: null,
    extra: null,
    ...overrides,
  };
}

/** A real PNG whose pixels depend on `n` (so different n give different files). */
export function png(n: number, size = 32): Promise<Buffer> {
  return sharp({
    create: { width: size, height: size, channels: 3, background: { r: n % 256, g: (n >> 8) % 256, b: 77 } },
  })
    .png()
    .toBuffer();
}
