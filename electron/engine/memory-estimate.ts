// How much memory a bundle needs to generate one image, per execution provider, from its manifest alone (the files'
// sizes, the architecture's numbers): weights, the LM's KV cache at the longest sequence, and the largest graph
// call's activations. An estimate to warn before a load, not a measurement; `vgt bench` measures.
import { bundleGrids, type BundleManifest } from './bundle';
import { DEFAULT_MAX_TEXT_TOKENS } from './tokenizer';

const GRAPH_ROLES = new Set([
  'lm_step',
  'latent_in',
  'head_cond',
  'head_velocity',
  'head_sde',
  'head_fused',
  'vgtae_decode',
  'vgtae_encode',
  'onnx_external_data',
]);
const TABLE_ROLES = new Set(['token_embedding', 'query_table', 'pos_table']);
const RAW_BYTES: Record<string, number> = { float32: 4, float16: 2 };
/** Every activation, cache and table the engine holds is float32. */
const F32 = 4;
/**
 * Channels of VGT-AE's decoder at full resolution (DC-AE's first stage): the manifest does not name them, so the
 * decoder's activations assume this width.
 */
export const DECODER_FULL_RES_CHANNELS = 128;

export type MemoryAssumptions = Readonly<{
  /** Text row length: the bundle's prompt.maxTokens, else the engine's limit. */
  textTokens: number;
  /** LM rows per image: conditional + unconditional when cfg > 1. */
  rows: number;
  /** Latent tokens of the largest grid. */
  imageTokens: number;
  /** The longest LM sequence: text, image-start ids, every query, and each committed token's re-fed pair (k > 1). */
  maxSequence: number;
  decoderFullResChannels: number;
  /** A float16 bundle's weights are Cast to float32 in the graph; ONNX Runtime folds the Casts at load. */
  weightsFolded: boolean;
}>;

export type ProviderMemory = Readonly<{
  /** Process (CPU) memory during generation. */
  hostBytes: number;
  /** Accelerator memory (0 on the CPU provider). */
  deviceBytes: number;
}>;

export type MemoryEstimate = Readonly<{
  model: string;
  assumptions: MemoryAssumptions;
  /** The graphs' files as stored, and resident after ONNX Runtime's optimisations (float16 Casts folded). */
  weights: Readonly<{ storedBytes: number; residentBytes: number; tableBytes: number }>;
  /** Keys and values of every layer at maxSequence, for one image (all rows). */
  kvCacheBytes: number;
  /** The largest call of each part; `peakBytes` is the largest of them. */
  activations: Readonly<{ lmBytes: number; headBytes: number; decoderBytes: number; peakBytes: number }>;
  providers: Readonly<Record<string, ProviderMemory>>;
}>;

export function estimateMemory(
  manifest: BundleManifest,
  providers: ReadonlyArray<string> = ['cpu'],
  options: Readonly<{ batch?: number; decoderChannels?: number }> = {},
): MemoryEstimate {
  const a = manifest.architecture;
  const batch = options.batch ?? 1;
  const channels = options.decoderChannels ?? DECODER_FULL_RES_CHANNELS;
  let storedBytes = 0;
  let tableBytes = 0;
  for (const entry of Object.values(manifest.files)) {
    if (GRAPH_ROLES.has(entry.role)) storedBytes += entry.bytes;
    // Raw tables become Float32Arrays in the engine, whatever their stored dtype.
    else if (TABLE_ROLES.has(entry.role)) tableBytes += (entry.bytes / (RAW_BYTES[entry.dtype ?? ''] ?? F32)) * F32;
  }
  // Measured: a 100 MB float16 initializer behind a Cast took 230 MB of RSS with graphOptimizationLevel 'all' (the
  // engine's) and 127 MB with optimisations off, so a float16 bundle's weights sit in memory as float32.
  const weightsFolded = manifest.dtype === 'float16';
  const residentBytes = weightsFolded ? storedBytes * 2 : storedBytes;

  const rows = (manifest.sampling.cfg > 1 ? 2 : 1) * batch;
  const imageTokens = Math.max(...bundleGrids(manifest).map(([h, w]) => h * w));
  const textTokens = manifest.prompt.maxTokens ?? DEFAULT_MAX_TEXT_TOKENS;
  const maxSequence = textTokens + manifest.prompt.imgTokenIds.length + 3 * imageTokens;
  const kvCacheBytes = 2 * a.layers * rows * a.kvHeads * maxSequence * a.headDim * F32;

  // The LM's worst call is a prefill of the whole sequence (a resumed generation replays every committed token):
  // one layer's attention scores and softmax, its MLP (gate, up, product) and a few hidden-state copies.
  const S = maxSequence;
  const lmBytes = (2 * rows * a.heads * S * S + rows * S * (3 * a.ffn + 4 * a.hidden)) * F32;
  // The flow head runs on every token of a group at once; the largest group is the whole grid (k = h·w).
  const headBytes = rows * imageTokens * a.headWidth * 8 * F32;
  // The decoder's full-resolution stage holds its input, a hidden map and its output.
  const decoderBytes = batch * 3 * channels * manifest.image.size ** 2 * F32;
  const peakBytes = Math.max(lmBytes, headBytes, decoderBytes);

  // The KV cache is host tensors between steps (onnxruntime-node has no device-resident outputs) and, during a call,
  // both the past fed in and the present coming out exist: twice the cache on the device, twice on the host.
  const result: Record<string, ProviderMemory> = {};
  for (const id of providers) {
    result[id] =
      id === 'cpu'
        ? { hostBytes: residentBytes + tableBytes + 2 * kvCacheBytes + peakBytes, deviceBytes: 0 }
        : {
            // The host reads each graph file while its session starts, and keeps the tables and the cache.
            hostBytes: storedBytes + tableBytes + 2 * kvCacheBytes,
            deviceBytes: residentBytes + 2 * kvCacheBytes + peakBytes,
          };
  }
  return {
    model: manifest.id,
    assumptions: {
      textTokens,
      rows,
      imageTokens,
      maxSequence,
      decoderFullResChannels: channels,
      weightsFolded,
    },
    weights: { storedBytes, residentBytes, tableBytes },
    kvCacheBytes,
    activations: { lmBytes, headBytes, decoderBytes, peakBytes },
    providers: result,
  };
}
