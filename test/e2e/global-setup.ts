// Starts `npm run studio` (bin/studio.mjs) on a free port with a throw-away data folder, for every e2e file.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    baseUrl: string;
    studioHome: string;
  }
}

let child: ChildProcess | null = null;
let home = '';

export async function setup(project: TestProject): Promise<void> {
  home = mkdtempSync(path.join(tmpdir(), 'vgt-e2e-'));
  child = spawn(process.execPath, ['bin/studio.mjs'], {
    cwd: path.resolve(import.meta.dirname, '..', '..'),
    env: { ...process.env, VGT_STUDIO_HOME: home, VGT_STUDIO_PORT: '0' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => reject(new Error(`web mode did not start:\n${output}`)), 170_000);
    child!.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = /(http:\/\/127\.0\.0\.1:\d+\/)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    });
    child!.once('exit', (code) => reject(new Error(`web mode exited with ${code}:\n${output}`)));
  });
  project.provide('baseUrl', url);
  project.provide('studioHome', home);
}

export async function teardown(): Promise<void> {
  if (child && child.exitCode === null) {
    child.kill('SIGTERM');
    await new Promise((resolve) => child!.once('exit', resolve));
  }
  rmSync(home, { recursive: true, force: true });
}
