#!/usr/bin/env node
// `npm run studio`: web mode. Builds the renderer once if it is missing, then serves it with the studio host.
import { register } from 'tsx/esm/api';
import { ensureRendererBuilt } from './renderer-build.mjs';

await ensureRendererBuilt();
register();
const { runWebMode } = await import('../electron/web/start.ts');
await runWebMode();
