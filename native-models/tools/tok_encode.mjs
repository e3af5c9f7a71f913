// Encodes strings with @huggingface/tokenizers (what the TypeScript engine uses), for the Python
// tokenizer cross-check:  node tok_encode.mjs tokenizer.json strings.json  -> JSON [[ids...], ...]
// Package lookup as ort_run.mjs: $ORT_NODE_PATH (a node_modules folder), then the repo's node_modules.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const roots = [process.env.ORT_NODE_PATH, path.resolve(here, '..', '..', 'node_modules')].filter(Boolean);
const pkg = roots.map((r) => path.join(r, '@huggingface', 'tokenizers')).find((p) => fs.existsSync(path.join(p, 'package.json')));
if (!pkg) {
  process.stderr.write('@huggingface/tokenizers not found\n');
  process.exit(3);
}
const meta = JSON.parse(fs.readFileSync(path.join(pkg, 'package.json'), 'utf8'));
const { Tokenizer } = await import(pathToFileURL(path.join(pkg, meta.exports['.'].node.import)).href);
const tok = new Tokenizer(JSON.parse(fs.readFileSync(process.argv[2], 'utf8')), {});
const strings = JSON.parse(fs.readFileSync(process.argv[3], 'utf8'));
process.stdout.write(JSON.stringify(strings.map((s) => tok.encode(s, { add_special_tokens: false }).ids)));
