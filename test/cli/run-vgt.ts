// Runs `vgt … --json` in-process for CLI tests: one data folder, one thread, only the bundles the test imports (the
// shipped default model would otherwise be the one chosen). Answers the exit code, the last stdout line as JSON and
// how many lines were printed.
import { main } from '../../electron/cli/main';

export type VgtRun = Readonly<{ code: number; json: Record<string, unknown>; lines: number }>;

export function vgtIn(home: string, env: Readonly<Record<string, string>> = {}) {
  return async (...args: Array<string>): Promise<VgtRun> => {
    let out = '';
    const code = await main([...args, '--json'], {
      stdout: (t) => (out += t),
      stderr: () => undefined,
      env: { VGT_STUDIO_HOME: home, VGT_THREADS: '1', ...env },
      builtinBundles: [],
    });
    const lines = out.trim().split('\n');
    return { code, json: JSON.parse(lines.at(-1) ?? '{}') as Record<string, unknown>, lines: lines.length };
  };
}
