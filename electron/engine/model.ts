// A loaded model: a validated bundle, its graphs on one provider, its tables and its prompt encoder.
import type { ProviderId } from '../common/contract';
import { bundleEntry, readRawTensor, type Bundle } from './bundle';
import { OrtGraphs, createOrtSession, type SessionFactory, type SessionOptions } from './graphs';
import type { ModelTables } from './sampler';
import { PromptEncoder } from './tokenizer';

export type LoadedModel = Readonly<{
  bundle: Bundle;
  graphs: OrtGraphs;
  tables: ModelTables;
  prompts: PromptEncoder;
}>;

export async function loadTables(bundle: Bundle): Promise<ModelTables> {
  const { manifest } = bundle;
  const grid = manifest.image.grid;
  const [embedTokens, queries, pos] = await Promise.all([
    readRawTensor(bundle, 'token_embedding'),
    readRawTensor(bundle, 'query_table', grid),
    readRawTensor(bundle, 'pos_table', grid),
  ]);
  return {
    hidden: manifest.architecture.hidden,
    dZ: manifest.architecture.dZ,
    latentLnEps: manifest.architecture.latentLnEps,
    embedTokens,
    queries,
    pos,
    grid,
    imgTokenIds: manifest.prompt.imgTokenIds,
    padTokenId: manifest.prompt.padTokenId,
    padMask: manifest.prompt.padMask ?? 'always',
    imagePositions: manifest.image.positions ?? 'sequence',
  };
}

export async function loadModel(
  bundle: Bundle,
  ep: ProviderId,
  options: SessionOptions = {},
  factory: SessionFactory = createOrtSession,
): Promise<LoadedModel> {
  const [tables, prompts] = await Promise.all([
    loadTables(bundle),
    PromptEncoder.load(bundleEntry(bundle, 'tokenizer').file, bundle.manifest),
  ]);
  const graphs = await OrtGraphs.open(bundle, ep, options, factory);
  return { bundle, graphs, tables, prompts };
}
