// Entry of `npm run studio` (and of `npm start` where Electron cannot run): web mode on 127.0.0.1.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { resolveHome } from '../core/paths';
import { createStudio } from '../core/studio';
import { DEFAULT_PORT, startWebServer } from './server';

export function parsePort(value: string | undefined): number {
  if (value === undefined || value.trim() === '') return DEFAULT_PORT;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`VGT_STUDIO_PORT must be a whole number from 0 to 65535, not ${JSON.stringify(value)}.`);
  }
  return port;
}

export async function runWebMode(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
  const home = resolveHome(env);
  let port: number;
  try {
    port = parsePort(env.VGT_STUDIO_PORT);
  } catch (error) {
    console.error((error as Error).message);
    process.exitCode = 2;
    return;
  }
  const studio = createStudio({ home, mode: 'web', env });
  let server;
  try {
    server = await startWebServer({ studio, staticDir: path.join(root, 'renderer', 'dist'), port });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    console.error(
      code === 'EADDRINUSE'
        ? `Port ${port} is in use: set VGT_STUDIO_PORT to another port (or 0 for any free one).`
        : `Web mode could not start: ${(error as Error).message}`,
    );
    await studio.dispose();
    process.exitCode = 1;
    return;
  }
  console.log(`VGT Studio (web mode) is serving ${server.url}  ·  data: ${home}`);
  const stop = async () => {
    await server.close();
    await studio.dispose();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
}
