// The memory estimate follows the manifest: weights from the files listed, KV cache and activations from the
// architecture and the longest sequence, and where each lives on each provider.
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { BundleManifest } from '../../electron/engine/bundle';
import { estimateMemory } from '../../electron/engine/memory-estimate';
import { TINY_BUNDLE } from './golden';

const SHAPES_BUNDLE = path.resolve(import.meta.dirname, '..', '..', 'native-models', 'bundles', 'vgt-shapes');
const manifestOf = (dir: string): BundleManifest =>
  JSON.parse(readFileSync(path.join(dir, 'vgt-bundle.json'), 'utf8')) as BundleManifest;

function withArchitecture(m: BundleManifest, change: Partial<BundleManifest['architecture']>): BundleManifest {
  return { ...m, architecture: { ...m.architecture, ...change } };
}

describe('estimateMemory', () => {
  const tiny = manifestOf(TINY_BUNDLE);

  it('counts the graph files on disk as the weights, and float32 tables as stored', () => {
    const graphs = Object.keys(tiny.files).filter((f) => f.endsWith('.onnx'));
    const onDisk = graphs.reduce((sum, f) => sum + statSync(path.join(TINY_BUNDLE, f)).size, 0);
    const tables = Object.entries(tiny.files)
      .filter(([f]) => f.endsWith('.bin'))
      .reduce((sum, [f]) => sum + statSync(path.join(TINY_BUNDLE, f)).size, 0);
    const e = estimateMemory(tiny);
    expect(tiny.dtype).toBe('float32');
    expect(e.weights).toEqual({ storedBytes: onDisk, residentBytes: onDisk, tableBytes: tables });
  });

  it('a float16 bundle: weights resident as float32, tables widened to float32', () => {
    const shapes = manifestOf(SHAPES_BUNDLE);
    const e = estimateMemory(shapes);
    expect(shapes.dtype).toBe('float16');
    expect(e.weights.residentBytes).toBe(2 * e.weights.storedBytes);
    const embed = shapes.files['embed_tokens.bin']!;
    expect(e.weights.tableBytes).toBeGreaterThanOrEqual(2 * embed.bytes);
  });

  it('the KV cache grows with layers, KV heads, rows (CFG, batch) and the longest sequence', () => {
    const base = estimateMemory(tiny);
    expect(base.assumptions.rows).toBe(tiny.sampling.cfg > 1 ? 2 : 1);
    expect(estimateMemory(withArchitecture(tiny, { layers: 2 * tiny.architecture.layers })).kvCacheBytes).toBe(
      2 * base.kvCacheBytes,
    );
    expect(estimateMemory(withArchitecture(tiny, { kvHeads: 4 * tiny.architecture.kvHeads })).kvCacheBytes).toBe(
      4 * base.kvCacheBytes,
    );
    expect(estimateMemory(tiny, ['cpu'], { batch: 3 }).kvCacheBytes).toBe(3 * base.kvCacheBytes);
    const noCfg = estimateMemory({ ...tiny, sampling: { ...tiny.sampling, cfg: 1 } });
    expect(noCfg.kvCacheBytes * 2).toBe(base.kvCacheBytes);
    // A larger grid lengthens the sequence by three entries per token (query, and the re-fed pair).
    const bigger = estimateMemory({ ...tiny, image: { ...tiny.image, grid: [16, 16], grids: [[16, 16]] } });
    expect(bigger.assumptions.maxSequence - base.assumptions.maxSequence).toBe(3 * (256 - 64));
    expect(bigger.kvCacheBytes).toBeGreaterThan(base.kvCacheBytes);
    // A prompt limit in the manifest replaces the engine's default.
    const short = estimateMemory({ ...tiny, prompt: { ...tiny.prompt, maxTokens: 16 } });
    expect(short.assumptions.textTokens).toBe(16);
    expect(short.kvCacheBytes).toBeLessThan(base.kvCacheBytes);
  });

  it('activations: the largest of the LM prefill, the head and the decoder', () => {
    const e = estimateMemory(tiny);
    const { lmBytes, headBytes, decoderBytes, peakBytes } = e.activations;
    expect(peakBytes).toBe(Math.max(lmBytes, headBytes, decoderBytes));
    const wide = estimateMemory(withArchitecture(tiny, { ffn: 100 * tiny.architecture.ffn }));
    expect(wide.activations.lmBytes).toBeGreaterThan(lmBytes);
    expect(estimateMemory(tiny, ['cpu'], { decoderChannels: 256 }).activations.decoderBytes).toBe(
      (decoderBytes * 256) / e.assumptions.decoderFullResChannels,
    );
  });

  it('CPU holds everything in the process; an accelerator holds weights, cache and activations on the device', () => {
    const e = estimateMemory(tiny, ['cuda', 'webgpu', 'cpu']);
    const cpu = e.providers.cpu!;
    const cuda = e.providers.cuda!;
    expect(Object.keys(e.providers)).toEqual(['cuda', 'webgpu', 'cpu']);
    expect(cpu.deviceBytes).toBe(0);
    expect(cpu.hostBytes).toBe(
      e.weights.residentBytes + e.weights.tableBytes + 2 * e.kvCacheBytes + e.activations.peakBytes,
    );
    expect(cuda.deviceBytes).toBe(e.weights.residentBytes + 2 * e.kvCacheBytes + e.activations.peakBytes);
    expect(cuda.hostBytes).toBeLessThan(cpu.hostBytes);
    expect(e.providers.webgpu).toEqual(cuda);
  });
});
