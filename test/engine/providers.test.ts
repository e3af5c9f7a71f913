import { describe, expect, it } from 'vitest';
import { getProviderReport, parsePreference, probeProviders } from '../../electron/engine/providers';

describe('execution providers', () => {
  it('orders by VGT_EP, keeps CPU last, ignores unknown names', () => {
    expect(parsePreference(undefined).order).toEqual(['cuda', 'dml', 'coreml', 'webgpu', 'cpu']);
    expect(parsePreference('webgpu, CUDA').order).toEqual(['webgpu', 'cuda', 'cpu']);
    expect(parsePreference('cpu,webgpu').order).toEqual(['webgpu', 'cpu']);
    expect(parsePreference('directml').order).toEqual(['dml', 'cpu']);
    expect(parsePreference('tpu,cpu')).toEqual({ order: ['cpu'], unknown: ['tpu'] });
  });

  it('probes every provider and always has CPU', async () => {
    const statuses = await probeProviders();
    expect(statuses.map((s) => s.id)).toEqual(['cuda', 'dml', 'coreml', 'webgpu', 'cpu']);
    expect(statuses.find((s) => s.id === 'cpu')).toEqual({ id: 'cpu', bundled: true, available: true });
    for (const status of statuses) {
      if (!status.available) expect(status.reason, status.id).toBeTruthy();
    }
  });

  it('prefers the first available provider of the preference', async () => {
    const report = await getProviderReport('coreml');
    const coreml = report.providers.find((p) => p.id === 'coreml')!;
    expect(report.preferred).toBe(coreml.available ? 'coreml' : 'cpu');
    expect(report.preference).toBe('coreml');
  });
});
