#!/usr/bin/env node
// The `vgt` command. TypeScript sources run through tsx, so the CLI needs no build step after `npm ci`.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../electron/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
