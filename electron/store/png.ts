// The replay parameters inside the PNG: an iTXt chunk with the keyword `vgt` whose text is JSON. Written right
// after IHDR so tools that read only the head of a file find it; a tEXt chunk with the same keyword is read too.
// The JSON has a fixed key order and no timestamps or ids, so the same settings give byte-identical files.
import { crc32, inflateSync } from 'node:zlib';
import { ReplayParamsSchema, type ReplayParams } from '../common/api/library';
import { StudioError } from '../common/errors';

export const PNG_KEYWORD = 'vgt';
/** The format of the embedded JSON, bumped only if a field changes meaning. */
export const REPLAY_FORMAT = 1;

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const MAX_TEXT_BYTES = 64 * 1024;

type Chunk = Readonly<{ type: string; data: Buffer; start: number; end: number }>;

function invalid(message: string): StudioError {
  return new StudioError('IMAGE_INVALID', message);
}

/** Splits a PNG into chunks, checking the signature, lengths and CRCs. */
export function readChunks(png: Uint8Array): Array<Chunk> {
  const buf = Buffer.from(png.buffer, png.byteOffset, png.byteLength);
  if (buf.length < SIGNATURE.length + 12 || !buf.subarray(0, 8).equals(SIGNATURE)) {
    throw invalid('The file is not a PNG image.');
  }
  const chunks: Array<Chunk> = [];
  let offset = 8;
  while (offset < buf.length) {
    if (offset + 12 > buf.length) throw invalid('The PNG is truncated.');
    const length = buf.readUInt32BE(offset);
    const end = offset + 12 + length;
    if (length > 0x7fffffff || end > buf.length) throw invalid('The PNG is truncated.');
    const type = buf.toString('latin1', offset + 4, offset + 8);
    const data = buf.subarray(offset + 8, offset + 8 + length);
    if (crc32(buf.subarray(offset + 4, offset + 8 + length)) !== buf.readUInt32BE(offset + 8 + length)) {
      throw invalid(`The PNG's ${type} chunk is damaged (CRC mismatch).`);
    }
    chunks.push({ type, data, start: offset, end });
    offset = end;
    if (type === 'IEND') break;
  }
  if (chunks[0]?.type !== 'IHDR' || chunks.at(-1)?.type !== 'IEND') throw invalid('The PNG has no IHDR or IEND.');
  return chunks;
}

export function pngSize(png: Uint8Array): Readonly<{ width: number; height: number }> {
  const [{ data: ihdr }] = readChunks(png) as [Chunk];
  return { width: ihdr.readUInt32BE(0), height: ihdr.readUInt32BE(4) };
}

function chunk(type: string, data: Buffer): Buffer {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'latin1');
  data.copy(out, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

/** The canonical JSON text of a replay record (fixed key order, format version first). */
export function replayJson(params: ReplayParams): string {
  const p = ReplayParamsSchema.parse(params);
  return JSON.stringify({
    vgt: REPLAY_FORMAT,
    kind: p.kind,
    prompt: p.prompt,
    negativePrompt: p.negativePrompt,
    modelId: p.modelId,
    bundleHash: p.bundleHash,
    provider: p.provider,
    seed: p.seed,
    orderSeed: p.orderSeed,
    order: p.order,
    tokensPerStep: p.tokensPerStep,
    steps: p.steps,
    cfg: p.cfg,
    cfgSchedule: p.cfgSchedule,
    width: p.width,
    height: p.height,
    sourceImage: p.sourceImage,
    extra: p.extra,
  });
}

function isText(c: Chunk, keyword: string): boolean {
  if (c.type !== 'iTXt' && c.type !== 'tEXt') return false;
  const nul = c.data.indexOf(0);
  return nul > 0 && c.data.toString('latin1', 0, nul) === keyword;
}

const isVgtText = (c: Chunk): boolean => isText(c, PNG_KEYWORD);

/** Returns the PNG with one iTXt chunk `keyword` (replacing any earlier one) right after IHDR, holding `text`. */
export function embedPngText(png: Uint8Array, keyword: string, text: string): Buffer {
  const chunks = readChunks(png);
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length > MAX_TEXT_BYTES)
    throw new StudioError('INVALID_PAYLOAD', `The PNG's ${keyword} text is too large.`);
  // keyword \0, compression flag 0, method 0, empty language tag \0, empty translated keyword \0, UTF-8 text
  const itxt = chunk('iTXt', Buffer.concat([Buffer.from(`${keyword}\0\0\0\0\0`, 'latin1'), bytes]));
  const buf = Buffer.from(png.buffer, png.byteOffset, png.byteLength);
  const [ihdr, ...rest] = chunks.filter((c) => !isText(c, keyword)).map((c) => buf.subarray(c.start, c.end)) as [
    Buffer,
    ...Array<Buffer>,
  ];
  return Buffer.concat([SIGNATURE, ihdr, itxt, ...rest]);
}

/** The text of a PNG's `keyword` text chunk (iTXt or tEXt), or null if it has none. */
export function readPngText(png: Uint8Array, keyword: string): string | null {
  const found = readChunks(png).find((c) => isText(c, keyword));
  return found ? chunkText(found) : null;
}

/** Returns the PNG with one `vgt` iTXt chunk (replacing any earlier one) holding `params`. */
export function embedReplayParams(png: Uint8Array, params: ReplayParams): Buffer {
  return embedPngText(png, PNG_KEYWORD, replayJson(params));
}

function chunkText(c: Chunk): string {
  const nul = c.data.indexOf(0);
  if (c.type === 'tEXt') return c.data.toString('latin1', nul + 1);
  const compressed = c.data[nul + 1] === 1;
  let rest = c.data.subarray(nul + 3);
  rest = rest.subarray(rest.indexOf(0) + 1); // language tag
  rest = rest.subarray(rest.indexOf(0) + 1); // translated keyword
  return (compressed ? inflateSync(rest, { maxOutputLength: MAX_TEXT_BYTES }) : rest).toString('utf8');
}

/** The replay parameters embedded in a PNG, or null if it has none. Malformed parameters are IMAGE_INVALID. */
export function readReplayParams(png: Uint8Array): ReplayParams | null {
  const found = readChunks(png).find(isVgtText);
  if (!found) return null;
  let json: unknown;
  try {
    json = JSON.parse(chunkText(found));
  } catch {
    throw invalid('The image’s VGT parameters are not valid JSON.');
  }
  if (typeof json !== 'object' || json === null || (json as { vgt?: unknown }).vgt !== REPLAY_FORMAT) {
    throw invalid('The image’s VGT parameters are of an unknown format.');
  }
  const { vgt: _format, ...rest } = json as Record<string, unknown>;
  const parsed = ReplayParamsSchema.safeParse(rest);
  if (!parsed.success) throw invalid(`The image’s VGT parameters are incomplete: ${parsed.error.issues[0]?.message}`);
  return parsed.data;
}
