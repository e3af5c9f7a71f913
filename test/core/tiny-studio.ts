// A studio host on the random-weight tiny bundle, for tests that go through the contract: a scratch data folder with
// the bundle as its only built-in model, `call` that throws the contract's error, and `dispose` that removes it all.
import { mkdir, mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { CallName, CallRequest, CallResponse } from '../../electron/common/contract';
import { createStudio, type Studio, type StudioOptions } from '../../electron/core/studio';
import { TINY_BUNDLE } from '../engine/golden';

export type Call = <N extends CallName>(name: N, request: CallRequest<N>) => Promise<CallResponse<N>>;
export type TinyStudio = Readonly<{ studio: Studio; call: Call; dispose: () => Promise<void> }>;

export async function openTinyStudio(
  prefix: string,
  options: Partial<Pick<StudioOptions, 'env' | 'engine'>> = {},
): Promise<TinyStudio> {
  const root = await mkdtemp(path.join(tmpdir(), prefix));
  await mkdir(path.join(root, 'bundles'));
  await symlink(TINY_BUNDLE, path.join(root, 'bundles', 'tiny'));
  const studio = createStudio({
    home: path.join(root, 'home'),
    mode: 'web',
    env: options.env ?? { VGT_THREADS: '1' },
    builtinBundles: [path.join(root, 'bundles')],
    ...(options.engine ? { engine: options.engine } : {}),
  });
  const call: Call = async (name, request) => {
    const result = await studio.handle(name, request);
    if (!result.ok) throw Object.assign(new Error(result.error.message), result.error);
    return result.value as CallResponse<typeof name>;
  };
  return {
    studio,
    call,
    dispose: async () => {
      await studio.dispose();
      await rm(root, { recursive: true, force: true });
    },
  };
}
