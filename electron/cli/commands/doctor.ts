// `vgt doctor`: the runtime, execution providers, data folder and free disk (the contract's `doctor` call), plus the
// memory a model needs on each provider, estimated from its manifest (engine/memory-estimate.ts).
import path from 'node:path';
import type { Doctor } from '../../common/contract';
import { StudioError } from '../../common/errors';
import { readManifest } from '../../engine/bundle';
import { estimateMemory, type MemoryEstimate } from '../../engine/memory-estimate';
import { call, type Command } from '../command';

export type DoctorResult = Doctor & Readonly<{ memory: MemoryEstimate | null }>;

function formatBytes(bytes: number | null): string {
  if (bytes === null) return 'unknown';
  const gib = bytes / 1024 ** 3;
  const mib = bytes / 1024 ** 2;
  return gib >= 1 ? `${gib.toFixed(1)} GiB` : `${mib.toFixed(mib < 10 ? 1 : 0)} MiB`;
}

function memoryLines(memory: MemoryEstimate | null): Array<string> {
  if (memory === null) return [];
  const { weights: w, activations } = memory;
  const lines = [
    `memory for ${memory.model} (estimate, one image, sequence ${memory.assumptions.maxSequence}): weights ` +
      `${formatBytes(w.residentBytes)} (${formatBytes(w.storedBytes)} stored) + tables ${formatBytes(w.tableBytes)}, ` +
      `KV cache ${formatBytes(memory.kvCacheBytes)}, activations ${formatBytes(activations.peakBytes)}`,
  ];
  for (const [id, need] of Object.entries(memory.providers))
    lines.push(
      `  ${id.padEnd(7)} host ${formatBytes(need.hostBytes)}` +
        (need.deviceBytes ? `, device ${formatBytes(need.deviceBytes)}` : ''),
    );
  return lines;
}

export const doctor: Command = {
  summary: 'Show the runtime, execution providers, data folder, free disk and the memory a model needs',
  usage: 'vgt doctor [--model ID | --bundle DIR] [--batch N] [--json]',
  options: { model: { type: 'string' }, bundle: { type: 'string' }, batch: { type: 'string' } },
  async run(values, _positionals, { studio }): Promise<DoctorResult> {
    const host = studio();
    const report = await call<Doctor>(host, 'doctor', {});
    const batch = values.batch === undefined ? 1 : Number(values.batch);
    if (!Number.isSafeInteger(batch) || batch < 1) throw new StudioError('USAGE', '--batch takes a whole number ≥ 1.');
    const bundle = values.bundle as string | undefined;
    const id = (values.model as string | undefined) ?? report.model?.id;
    // With no model asked for and none installed there is nothing to estimate; an unknown --model is an error.
    const dir = bundle ? path.resolve(bundle) : id ? (await host.services.models.resolve(id)).path : null;
    // The providers this build has, and CUDA where `npm run cuda:install` can add it.
    const providers = report.onnxruntime.providers
      .filter((p) => p.bundled || (p.id === 'cuda' && report.platform !== 'darwin'))
      .map((p) => p.id);
    const memory = dir ? estimateMemory(await readManifest(dir), providers, { batch }) : null;
    return { ...report, memory };
  },
  print(result, io) {
    const doctor = result as DoctorResult;
    const lines = [
      `${doctor.app.name} ${doctor.app.version} on ${doctor.platform}/${doctor.arch}, Node ${doctor.node}`,
      `onnxruntime-node ${doctor.onnxruntime.version}; preferred provider: ${doctor.onnxruntime.preferred}` +
        (doctor.onnxruntime.preference ? ` (VGT_EP=${doctor.onnxruntime.preference})` : ''),
      ...doctor.onnxruntime.providers.map(
        (p) => `  ${p.available ? '✓' : '✗'} ${p.id.padEnd(7)} ${p.reason ?? (p.available ? 'available' : '')}`,
      ),
      `data folder: ${doctor.dataDir} (${formatBytes(doctor.freeDiskBytes)} free)`,
      `model: ${doctor.model ? `${doctor.model.name} (${doctor.model.id})` : 'none installed'}`,
      ...memoryLines(doctor.memory),
    ];
    io.stdout(lines.join('\n') + '\n');
  },
};
