// Renders docs/api.md, the reference of the studio's typed contract, from the contract itself: every call and event
// of electron/common/contract.ts with its zod schemas, the error catalog and the transport limits. The doc comments
// (`/** … */`) on calls, events, fields, enum values and exported schemas in electron/common/api/*.ts become the
// prose. `npm run docs` writes the file; test/lint/api-docs.test.ts fails when it is stale.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { z } from 'zod';
import * as contract from '../electron/common/contract';
import { ERROR_CODES } from '../electron/common/errors';

const ROOT = path.resolve(import.meta.dirname, '..');
const API_DIR = path.join(ROOT, 'electron', 'common', 'api');
export const API_DOCS_FILE = path.join(ROOT, 'docs', 'api.md');

type Schema = z.ZodType;
/** The parts of a zod 4 definition this renderer reads. */
type Def = Readonly<{
  type: string;
  shape?: Record<string, Schema>;
  catchall?: Schema;
  element?: Schema;
  innerType?: Schema;
  defaultValue?: unknown;
  options?: ReadonlyArray<Schema>;
  entries?: Record<string, string | number>;
  values?: ReadonlyArray<unknown>;
  keyType?: Schema;
  valueType?: Schema;
  items?: ReadonlyArray<Schema>;
  in?: Schema;
  out?: Schema;
  checks?: ReadonlyArray<{ _zod: { def: Readonly<{ check: string; minimum?: number; maximum?: number }> } }>;
}>;

const defOf = (schema: Schema): Def => (schema as unknown as { _zod: { def: Def } })._zod.def;

/** A part a definition of this type always has. */
function part<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`a zod definition without its ${what}`);
  return value;
}

// ---------------------------------------------------------------------------------------------- doc comments

/** Where a doc comment sits: the top-level const, then the property names (and `#i` / `=value`) down to it. */
const key = (owner: string, at: ReadonlyArray<string>): string => [owner, ...at].join('\u0000');

type SourceDocs = Readonly<{
  /** `//` lines at the top of each area file, by area name. */
  areas: Map<string, string>;
  /** `/** … *\/` comments by key(). */
  docs: Map<string, string>;
}>;

function jsDoc(node: ts.Node, text: string): string | undefined {
  const ranges = ts.getLeadingCommentRanges(text, node.getFullStart()) ?? [];
  const last = ranges.filter((r) => text.startsWith('/**', r.pos)).at(-1);
  if (!last) return undefined;
  return text
    .slice(last.pos + 3, last.end - 2)
    .split('\n')
    .map((line) => line.replace(/^\s*\*?\s?/, '').trimEnd())
    .join('\n')
    .trim()
    .replace(/\s*\n\s*/g, ' ');
}

function propertyName(name: ts.PropertyName): string | undefined {
  if (ts.isIdentifier(name) || ts.isStringLiteral(name) || ts.isNumericLiteral(name)) return name.text;
  return undefined;
}

function readSourceDocs(): SourceDocs {
  const areas = new Map<string, string>();
  const docs = new Map<string, string>();
  for (const file of readdirSync(API_DIR).filter((f) => f.endsWith('.ts'))) {
    const text = readFileSync(path.join(API_DIR, file), 'utf8');
    const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
    const header: Array<string> = [];
    for (const line of text.split('\n')) {
      if (!line.startsWith('//')) break;
      header.push(line.replace(/^\/\/\s?/, ''));
    }
    areas.set(path.basename(file, '.ts'), header.join(' '));

    const record = (owner: string, at: ReadonlyArray<string>, node: ts.Node): void => {
      const doc = jsDoc(node, text);
      if (doc) docs.set(key(owner, at), doc);
    };
    const walk = (owner: string, node: ts.Node, at: ReadonlyArray<string>): void => {
      if (ts.isObjectLiteralExpression(node)) {
        for (const property of node.properties) {
          if (!ts.isPropertyAssignment(property)) continue;
          const name = propertyName(property.name);
          if (name === undefined) continue;
          record(owner, [...at, name], property);
          walk(owner, property.initializer, [...at, name]);
        }
      } else if (ts.isArrayLiteralExpression(node)) {
        node.elements.forEach((element, i) => {
          if (ts.isStringLiteral(element)) record(owner, [...at, `=${element.text}`], element);
          else {
            record(owner, [...at, `#${i}`], element);
            walk(owner, element, [...at, `#${i}`]);
          }
        });
      } else ts.forEachChild(node, (child) => walk(owner, child, at));
    };
    for (const statement of source.statements) {
      if (!ts.isVariableStatement(statement)) continue;
      for (const declaration of statement.declarationList.declarations) {
        if (!ts.isIdentifier(declaration.name) || !declaration.initializer) continue;
        const owner = declaration.name.text;
        record(owner, [], statement);
        walk(owner, declaration.initializer, []);
      }
    }
  }
  return { areas, docs };
}

// ---------------------------------------------------------------------------------------------- named schemas

/** Exported schemas are documented once under their name (`SeedSchema` → `Seed`) and referred to by it. */
function namedSchemas(): Map<Schema, { name: string; owner: string }> {
  const named = new Map<Schema, { name: string; owner: string }>();
  for (const [owner, value] of Object.entries(contract)) {
    if (value instanceof z.ZodType && !named.has(value)) {
      named.set(value, { name: owner.replace(/Schema$/, ''), owner });
    }
  }
  return named;
}

// ---------------------------------------------------------------------------------------------- rendering

const SAFE_MAX = Number.MAX_SAFE_INTEGER;

function formatNumber(value: number): string {
  if (value >= SAFE_MAX) return '2^53 − 1';
  return Number.isInteger(value) && Math.abs(value) >= 10_000 ? value.toLocaleString('en-US') : String(value);
}

function range(low: string | null, high: string | null, unit = ''): string | null {
  const single = (low === '1' && high === null) || (high === '1' && low === null) || (low === '1' && high === '1');
  const u = unit ? ` ${single ? unit.replace(/s$/, '') : unit}` : '';
  if (low !== null && high !== null) return low === high ? `exactly ${low}${u}` : `${low} to ${high}${u}`;
  if (low !== null) return `at least ${low}${u}`;
  if (high !== null) return `at most ${high}${u}`;
  return null;
}

/** Constraints of a leaf type, read from its JSON Schema (zod's own translation of its checks). */
function leafNotes(schema: Schema): { type: string; notes: Array<string> } {
  const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  const num = (name: string): number | undefined =>
    typeof json[name] === 'number' ? (json[name] as number) : undefined;
  const notes: Array<string> = [];
  if (json.type === 'string') {
    const [minLength, maxLength] = [num('minLength'), num('maxLength')];
    const length = range(
      minLength !== undefined ? formatNumber(minLength) : null,
      maxLength !== undefined ? formatNumber(maxLength) : null,
      'characters',
    );
    if (length) notes.push(length);
    if (json.format === 'date-time') notes.push('ISO 8601 date and time with offset');
    else if (typeof json.format === 'string') notes.push(`format ${json.format}`);
    else if (typeof json.pattern === 'string') notes.push(`matches \`/${json.pattern}/\``);
    return { type: 'string', notes };
  }
  if (json.type === 'integer' || json.type === 'number') {
    // Bounds that only say "a safe integer" (every .int() has them) are left out.
    const bound = (name: string): number | undefined => {
      const value = num(name);
      return value === undefined || Math.abs(value) >= SAFE_MAX ? undefined : value;
    };
    const [min, exclusiveMin, max, exclusiveMax] = ['minimum', 'exclusiveMinimum', 'maximum', 'exclusiveMaximum'].map(
      bound,
    );
    if (exclusiveMin !== undefined || exclusiveMax !== undefined) {
      const low =
        min !== undefined
          ? `at least ${formatNumber(min)}`
          : exclusiveMin !== undefined
            ? `more than ${formatNumber(exclusiveMin)}`
            : null;
      const high =
        max !== undefined
          ? `at most ${formatNumber(max)}`
          : exclusiveMax !== undefined
            ? `less than ${formatNumber(exclusiveMax)}`
            : null;
      notes.push([low, high].filter(Boolean).join(' and '));
    } else {
      const span = range(min !== undefined ? formatNumber(min) : null, max !== undefined ? formatNumber(max) : null);
      if (span) notes.push(span);
    }
    return { type: json.type, notes };
  }
  return { type: typeof json.type === 'string' ? json.type : 'unknown', notes };
}

type Rendered = { type: string; notes: Array<string>; optional?: boolean };

const isJsonValue = (schema: Schema): boolean =>
  JSON.stringify(z.toJSONSchema(schema, { unrepresentable: 'any' })) ===
  JSON.stringify(z.toJSONSchema(z.json(), { unrepresentable: 'any' }));

class Renderer {
  readonly #docs: Map<string, string>;
  readonly #named: Map<Schema, { name: string; owner: string }>;
  /** Named schemas referred to, so that each gets its section. */
  readonly referenced = new Set<Schema>();

  constructor(docs: Map<string, string>, named: Map<Schema, { name: string; owner: string }>) {
    this.#docs = docs;
    this.#named = named;
  }

  doc(owner: string, at: ReadonlyArray<string>): string | undefined {
    return this.#docs.get(key(owner, at));
  }

  /** A strict copy of a named object (`GenerateRequestSchema.strict()`) is that name, with no other fields. */
  nameOf(schema: Schema): { schema: Schema; name: string; strictCopy: boolean } | null {
    const exact = this.#named.get(schema);
    if (exact) return { schema, name: exact.name, strictCopy: false };
    const def = defOf(schema);
    if (def.type !== 'object' || !def.shape) return null;
    const keys = Object.keys(def.shape);
    for (const [candidate, { name }] of this.#named) {
      const other = defOf(candidate);
      if (other.type !== 'object' || !other.shape || Object.keys(other.shape).length !== keys.length) continue;
      const [mine, theirs] = [def.shape, other.shape];
      if (keys.length > 0 && keys.every((k) => theirs[k] === mine[k])) {
        return { schema: candidate, name, strictCopy: true };
      }
    }
    return null;
  }

  /** The doc of a field: where it is written, else where the same field schema was first declared (`.extend`). */
  fieldDoc(owner: string, at: ReadonlyArray<string>, field: string, schema: Schema): string | undefined {
    const own = this.doc(owner, [...at, field]);
    if (own) return own;
    for (const [candidate, { owner: candidateOwner }] of this.#named) {
      const shape = defOf(candidate).shape;
      if (shape && shape[field] === schema) {
        const found = this.doc(candidateOwner, [field]);
        if (found) return found;
      }
    }
    return undefined;
  }

  render(schema: Schema, owner: string, at: ReadonlyArray<string>, indent: string, root = false): Rendered {
    if (!root) {
      const named = this.nameOf(schema);
      if (named && !this.#isEmptyObject(schema)) {
        this.referenced.add(named.schema);
        return { type: named.name, notes: named.strictCopy ? ['no other fields'] : [] };
      }
    }
    const def = defOf(schema);
    switch (def.type) {
      case 'optional': {
        const inner = this.render(part(def.innerType, 'inner type'), owner, at, indent);
        return { ...inner, optional: true };
      }
      case 'default': {
        const inner = this.render(part(def.innerType, 'inner type'), owner, at, indent);
        return { ...inner, optional: true, notes: [...inner.notes, `default ${JSON.stringify(def.defaultValue)}`] };
      }
      case 'nullable': {
        const inner = this.render(part(def.innerType, 'inner type'), owner, at, indent);
        return { ...inner, type: `${inner.type} | null` };
      }
      case 'readonly':
      case 'catch':
      case 'nonoptional':
      case 'prefault':
        return this.render(part(def.innerType, 'inner type'), owner, at, indent);
      case 'pipe':
        // What a caller sends: the input side (transforms and further checks follow it).
        return this.render(part(def.in, 'input'), owner, at, indent);
      case 'object':
        return { type: this.#object(schema, owner, at, indent), notes: [] };
      case 'array': {
        const element = this.render(part(def.element, 'element'), owner, at, indent);
        const counts = (def.checks ?? []).map((c) => c._zod.def);
        const min = counts.find((c) => c.check === 'min_length')?.minimum;
        const max = counts.find((c) => c.check === 'max_length')?.maximum;
        const items = range(
          min !== undefined ? formatNumber(min) : null,
          max !== undefined ? formatNumber(max) : null,
          'items',
        );
        const simple = !element.type.includes('\n') && !element.type.includes('|');
        const notes = [
          ...(items ? [items] : []),
          ...element.notes.map((note) => (note.startsWith('each ') ? note : `each ${note}`)),
        ];
        return { type: simple ? `${element.type}[]` : `Array<${element.type}>`, notes };
      }
      case 'tuple': {
        const items = (def.items ?? []).map((item, i) => this.render(item, owner, [...at, `#${i}`], indent));
        return { type: `[${items.map((i) => i.type).join(', ')}]`, notes: items.flatMap((i) => i.notes) };
      }
      case 'record': {
        const k = this.render(part(def.keyType, 'key type'), owner, at, indent);
        const v = this.render(part(def.valueType, 'value type'), owner, at, indent);
        const notes = [...k.notes.map((n) => `keys ${n}`), ...v.notes];
        return { type: `{ [key: ${k.type}]: ${v.type} }`, notes };
      }
      case 'union':
        return this.#union(def.options ?? [], owner, at, indent);
      case 'enum':
        return this.#enum(Object.values(def.entries ?? {}), owner, at, indent);
      case 'literal':
        return { type: (def.values ?? []).map((v) => JSON.stringify(v)).join(' | '), notes: [] };
      case 'lazy':
        return { type: isJsonValue(schema) ? 'JSON' : 'unknown', notes: [] };
      case 'string':
      case 'number':
      case 'int':
      case 'boolean':
      case 'null':
      case 'bigint':
      case 'date':
        return leafNotes(schema);
      case 'any':
      case 'unknown':
        return { type: 'unknown', notes: [] };
      default:
        return { type: def.type, notes: [] };
    }
  }

  #isEmptyObject(schema: Schema): boolean {
    const def = defOf(schema);
    return def.type === 'object' && Object.keys(def.shape ?? {}).length === 0;
  }

  #object(schema: Schema, owner: string, at: ReadonlyArray<string>, indent: string): string {
    const def = defOf(schema);
    const strict = def.catchall !== undefined && defOf(def.catchall).type === 'never';
    const entries = Object.entries(def.shape ?? {});
    if (entries.length === 0) return '{}';
    const inner = `${indent}  `;
    const lines = [strict ? '{ // no other fields' : '{'];
    for (const [field, fieldSchema] of entries) {
      const doc = this.fieldDoc(owner, at, field, fieldSchema);
      if (doc) lines.push(...wrapComment(doc, inner));
      const r = this.render(fieldSchema, owner, [...at, field], inner);
      const note = r.notes.length > 0 ? `  // ${r.notes.join('; ')}` : '';
      lines.push(`${inner}${field}${r.optional ? '?' : ''}: ${r.type}${note}`);
    }
    lines.push(`${indent}}`);
    return lines.join('\n');
  }

  #union(options: ReadonlyArray<Schema>, owner: string, at: ReadonlyArray<string>, indent: string): Rendered {
    const rendered = options.map((option, i) => ({
      doc: this.doc(owner, [...at, `#${i}`]),
      r: this.render(option, owner, [...at, `#${i}`], `${indent}  `),
    }));
    const oneLine = rendered.every(({ doc, r }) => !doc && !r.type.includes('\n') && r.notes.length === 0);
    if (oneLine) return { type: rendered.map(({ r }) => r.type).join(' | '), notes: [] };
    const lines: Array<string> = [];
    for (const { doc, r } of rendered) {
      if (doc) lines.push(...wrapComment(doc, `${indent}  `));
      const note = r.notes.length > 0 ? `  // ${r.notes.join('; ')}` : '';
      lines.push(`${indent}  | ${r.type}${note}`);
    }
    return { type: `\n${lines.join('\n')}`, notes: [] };
  }

  #enum(values: ReadonlyArray<string | number>, owner: string, at: ReadonlyArray<string>, indent: string): Rendered {
    const docs = values.map((v) => this.doc(owner, [...at, `=${v}`]));
    if (docs.every((d) => d === undefined))
      return { type: values.map((v) => JSON.stringify(v)).join(' | '), notes: [] };
    const lines = values.map((v, i) => `${indent}  | ${JSON.stringify(v)}${docs[i] ? `  // ${docs[i]}` : ''}`);
    return { type: `\n${lines.join('\n')}`, notes: [] };
  }
}

function wrapComment(text: string, indent: string, width = 116): Array<string> {
  const lines: Array<string> = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (line && indent.length + 3 + line.length + 1 + word.length > width) {
      lines.push(`${indent}// ${line}`);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(`${indent}// ${line}`);
  return lines;
}

/** A multi-line union starts with a newline and is indented for a field; on its own it starts at the margin. */
function standalone(type: string): string {
  if (!type.startsWith('\n')) return type;
  const lines = type.slice(1).split('\n');
  return lines.every((line) => line.startsWith('  '))
    ? lines.map((line) => line.slice(2)).join('\n')
    : lines.join('\n');
}

/** A schema as a fenced block, or as one name when it is a named schema (linked to its section). */
function schemaBlock(
  renderer: Renderer,
  label: string,
  schema: Schema,
  owner: string,
  at: ReadonlyArray<string>,
): string {
  const r = renderer.render(schema, owner, at, '');
  if (/^[A-Za-z]+$/.test(r.type)) {
    const notes = r.notes.length > 0 ? ` (${r.notes.join('; ')})` : '';
    return `${label}: [\`${r.type}\`](#${typeAnchor(r.type)})${notes}`;
  }
  const note = r.notes.length > 0 ? `  // ${r.notes.join('; ')}` : '';
  return `${label}:\n\n\`\`\`ts\n${standalone(r.type)}${note}\n\`\`\``;
}

const typeHeading = (name: string): string => `type \`${name}\``;
const typeAnchor = (name: string): string => anchor(typeHeading(name));

/** GitHub's heading anchors: lower case, punctuation other than - and _ dropped, spaces to -. */
function anchor(heading: string): string {
  return heading
    .toLowerCase()
    .replace(/[^\w\- ]/g, '')
    .replace(/ /g, '-');
}

// ---------------------------------------------------------------------------------------------- the document

type Area = Readonly<{
  name: string;
  calls: Record<string, { request: Schema; response: Schema }>;
  events: Record<string, Schema>;
}>;

function areasOfContract(): Array<Area> {
  const exports = contract as unknown as Record<string, unknown>;
  const areas: Array<Area> = [];
  const seenCalls = new Set<string>();
  const seenEvents = new Set<string>();
  for (const file of readdirSync(API_DIR).filter((f) => f.endsWith('.ts'))) {
    const name = path.basename(file, '.ts');
    const calls = (exports[`${name}Calls`] ?? {}) as Area['calls'];
    const events = (exports[`${name}Events`] ?? {}) as Area['events'];
    Object.keys(calls).forEach((c) => seenCalls.add(c));
    Object.keys(events).forEach((e) => seenEvents.add(e));
    areas.push({ name, calls, events });
  }
  // The contract's own order of areas (its first call), and a check that every call and event has an area.
  const missing = [
    ...Object.keys(contract.calls).filter((c) => !seenCalls.has(c)),
    ...Object.keys(contract.events).filter((e) => !seenEvents.has(e)),
  ];
  if (missing.length > 0) throw new Error(`not in any electron/common/api/<area>.ts: ${missing.join(', ')}`);
  const order = [...Object.keys(contract.calls), ...Object.keys(contract.events)];
  const first = (area: Area): number =>
    Math.min(...[...Object.keys(area.calls), ...Object.keys(area.events)].map((n) => order.indexOf(n)), Infinity);
  return areas.sort((a, b) => first(a) - first(b));
}

export function renderApiDocs(): string {
  const { areas: areaDocs, docs } = readSourceDocs();
  const named = namedSchemas();
  const renderer = new Renderer(docs, named);
  const areas = areasOfContract();
  const out: Array<string> = [];
  const push = (...lines: Array<string>): void => {
    out.push(...lines);
  };

  push(
    '<!-- Generated by `npm run docs` (scripts/make-api-docs.mjs) from electron/common: do not edit by hand. -->',
    '',
    '# The studio API',
    '',
    'Everything the renderer asks of the studio host goes through one typed contract (`electron/common/contract.ts`):',
    'a set of named **calls**, each with a request and a response schema, and a set of **events** the host pushes.',
    'The host validates every request and every response against these schemas (`electron/core/dispatch.ts`), whatever',
    'the transport:',
    '',
    '| transport | a call | events |',
    '|---|---|---|',
    '| desktop app (IPC) | `window.vgt.call(name, payload)` from the preload, answering `{ ok: true, value }` or `{ ok: false, error }` | `window.vgt.subscribe(listener)` |',
    '| web mode (HTTP, loopback only) | `POST /api/<call>` with the request as the JSON body; `200` with the response as JSON, or an error status with `{ "error": { "code", "message" } }` | `GET /api/events`, server-sent events whose `data` is `{ "type", "data" }` |',
    '| command line | `vgt` commands call the same host in-process (docs/cli.md) | progress on stderr |',
    '',
    "Web-mode requests must carry the studio's own `Host`, its own `Origin` when a browser sends one, and the per-start",
    'token (header `x-vgt-token`, or `?token=` where a header cannot be set); anything else is refused with `FORBIDDEN`.',
    '',
    'Notation: the schemas below are written as TypeScript-like types. `field?:` may be left out; `// no other fields`',
    'marks a request that refuses unknown fields; a name such as `Seed` refers to its entry under [Types](#types).',
    'Numbers marked `integer` must be whole. Requests are checked as sent (before any normalising), responses as',
    'returned.',
    '',
    '## Limits',
    '',
    '| limit | value |',
    '|---|---|',
    `| JSON body of a call | ${formatNumber(contract.LIMITS.maxBodyBytes)} bytes |`,
    `| uploaded image (web mode's upload route) | ${formatNumber(contract.LIMITS.maxUploadBytes)} bytes |`,
    '',
    '## Errors',
    '',
    'A failed call answers a code from this catalog (`electron/common/errors.ts`) and a message for people.',
    '',
    '| code | meaning |',
    '|---|---|',
    ...Object.entries(ERROR_CODES).map(([code, meaning]) => `| \`${code}\` | ${meaning.replace(/\|/g, '\\|')} |`),
    '',
    '## Calls and events',
    '',
  );
  for (const area of areas) {
    const names = [...Object.keys(area.calls), ...Object.keys(area.events).map((e) => `${e} (event)`)];
    push(
      `- **${area.name}**: ${names.map((n) => `[\`${n.replace(' (event)', '')}\`](#${anchor(n)})${n.endsWith('(event)') ? ' (event)' : ''}`).join(', ')}`,
    );
  }
  for (const area of areas) {
    push('', `### Area: ${area.name}`, '');
    const about = areaDocs.get(area.name);
    if (about) push(about, '');
    for (const [name, call] of Object.entries(area.calls)) {
      push(`#### \`${name}\``, '');
      const doc = renderer.doc(`${area.name}Calls`, [name]);
      if (doc) push(doc, '');
      push(schemaBlock(renderer, 'Request', call.request, `${area.name}Calls`, [name, 'request']), '');
      push(schemaBlock(renderer, 'Response', call.response, `${area.name}Calls`, [name, 'response']), '');
    }
    for (const [name, event] of Object.entries(area.events)) {
      push(`#### \`${name}\` (event)`, '');
      const doc = renderer.doc(`${area.name}Events`, [name]);
      if (doc) push(doc, '');
      push(schemaBlock(renderer, 'Data', event, `${area.name}Events`, [name]), '');
    }
  }

  // Named schemas, in alphabetical order; rendering one may refer to more, so render until none is new.
  const sections = new Map<string, string>();
  for (let pending = [...renderer.referenced]; pending.length > 0;) {
    for (const schema of pending) {
      const { name, owner } = part(named.get(schema), 'name');
      if (sections.has(name)) continue;
      const r = renderer.render(schema, owner, [], '', true);
      const note = r.notes.length > 0 ? `  // ${r.notes.join('; ')}` : '';
      const doc = renderer.doc(owner, []);
      const lines = [`### ${typeHeading(name)}`, '', ...(doc ? [doc, ''] : [])];
      sections.set(name, [...lines, '```ts', `${standalone(r.type)}${note}`, '```', ''].join('\n'));
    }
    pending = [...renderer.referenced].filter((s) => !sections.has(named.get(s)?.name ?? ''));
  }
  push('## Types', '', 'The named schemas of `electron/common/api/*.ts` that the calls and events use, by name.', '');
  const sorted = [...sections.entries()].sort(([a], [b]) => a.localeCompare(b, 'en'));
  for (const [, section] of sorted) push(section);
  return `${out
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trimEnd()}\n`;
}
