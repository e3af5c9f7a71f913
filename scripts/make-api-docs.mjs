#!/usr/bin/env node
// `npm run docs`: writes docs/api.md from the typed contract (scripts/api-docs.ts). Runs under tsx, which loads the
// TypeScript sources. `--check` writes nothing and exits 1 when docs/api.md differs from what the contract gives.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { API_DOCS_FILE, renderApiDocs } from './api-docs.ts';

const text = renderApiDocs();
const current = existsSync(API_DOCS_FILE) ? readFileSync(API_DOCS_FILE, 'utf8') : null;
const name = path.relative(process.cwd(), API_DOCS_FILE);
if (process.argv.includes('--check')) {
  if (current !== text) {
    console.error(`${name} is stale: run \`npm run docs\` and commit it.`);
    process.exit(1);
  }
  console.log(`${name} is up to date.`);
} else if (current === text) {
  console.log(`${name} is up to date.`);
} else {
  writeFileSync(API_DOCS_FILE, text);
  console.log(`wrote ${name}`);
}
