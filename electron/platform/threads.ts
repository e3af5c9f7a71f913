// Starts a worker thread whose entry module sits next to the caller's module. A build ships `<name>.js` beside
// main.js; running from TypeScript sources (CLI, web mode, tests) the worker registers tsx before importing
// `<name>.ts`.
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker, type ResourceLimits } from 'node:worker_threads';

export function startModuleWorker(
  callerUrl: string,
  name: string,
  workerData: unknown,
  resourceLimits?: ResourceLimits,
): Worker {
  const limits = resourceLimits ? { resourceLimits } : {};
  if (!/\.ts($|\?)/.test(callerUrl)) {
    return new Worker(new URL(`./${name}.js`, callerUrl), { workerData, ...limits });
  }
  const tsxRoot = path.dirname(createRequire(callerUrl).resolve('tsx/package.json'));
  const tsx = pathToFileURL(path.join(tsxRoot, 'dist', 'esm', 'api', 'index.mjs')).href;
  const entry = new URL(`./${name}.ts`, callerUrl).href;
  const code = `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); });`;
  return new Worker(code, { eval: true, workerData, ...limits });
}
