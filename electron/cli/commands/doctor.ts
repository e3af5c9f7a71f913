import type { Doctor } from '../../common/contract';
import { call, type Command } from '../command';

function formatBytes(bytes: number | null): string {
  if (bytes === null) return 'unknown';
  const gib = bytes / 1024 ** 3;
  return gib >= 1 ? `${gib.toFixed(1)} GiB` : `${(bytes / 1024 ** 2).toFixed(0)} MiB`;
}

export const doctor: Command = {
  summary: 'Show the runtime, execution providers, data folder and free disk',
  usage: 'vgt doctor [--json]',
  options: {},
  run: (_values, _positionals, { studio }) => call<Doctor>(studio(), 'doctor', {}),
  print(result, io) {
    const doctor = result as Doctor;
    const lines = [
      `${doctor.app.name} ${doctor.app.version} on ${doctor.platform}/${doctor.arch}, Node ${doctor.node}`,
      `onnxruntime-node ${doctor.onnxruntime.version}; preferred provider: ${doctor.onnxruntime.preferred}` +
        (doctor.onnxruntime.preference ? ` (VGT_EP=${doctor.onnxruntime.preference})` : ''),
      ...doctor.onnxruntime.providers.map(
        (p) => `  ${p.available ? '✓' : '✗'} ${p.id.padEnd(7)} ${p.reason ?? (p.available ? 'available' : '')}`,
      ),
      `data folder: ${doctor.dataDir} (${formatBytes(doctor.freeDiskBytes)} free)`,
      `model: ${doctor.model ? `${doctor.model.name} (${doctor.model.id})` : 'none installed'}`,
    ];
    io.stdout(lines.join('\n') + '\n');
  },
};
