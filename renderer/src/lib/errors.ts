// What the UI says when a call fails: one sentence that says what went wrong and how to fix it, keyed by the error
// catalog's codes (electron/common/errors.ts). A message the studio already wrote for people is kept as it is; a
// technical one (a schema check, a native library's own words, a stack trace) is replaced by the code's sentence and
// kept as `details`, which views show behind a "Details" disclosure.
import { ERROR_CODES, StudioError, type ErrorCode } from '../../../electron/common/errors';

export type HumanError = Readonly<{ message: string; details: string | null; code: ErrorCode | null }>;

/** The code's sentence when the studio's own message is only the catalog default or is technical. */
const SENTENCES: Readonly<Partial<Record<ErrorCode, string>>> = {
  INVALID_PAYLOAD: 'One of the values is out of range. Check the fields you changed, then try again.',
  PAYLOAD_TOO_LARGE: 'That is too large to send to the studio. Use an image under about 1 MB, or a shorter text.',
  FORBIDDEN: 'The request did not come from the studio’s own page. Reload the page, then try again.',
  NOT_FOUND: 'That item no longer exists; it may have been deleted. Reload the view to see what is there now.',
  MODEL_NOT_FOUND: 'That model is not installed. Pick another model, or import it in the Models view.',
  MODEL_INVALID: 'The model folder is broken or is not a VGT bundle. Import or download it again in the Models view.',
  IMAGE_INVALID: 'This file is not an image the studio can read. Choose a PNG, JPEG or WebP image.',
  PROVIDER_FAILED:
    'The execution provider could not run the model. In Settings, set Execution provider to CPU or Automatic, then try again.',
  OUT_OF_MEMORY: 'The model ran out of memory. Make fewer images at once or close other programs, then try again.',
  CANCELLED: 'Cancelled: nothing more was made.',
  BUSY: 'The studio is busy with another job. Wait for it to finish or cancel it, then try again.',
  DATABASE_CORRUPT:
    'The library database is damaged. Settings → Library → Recover moves it aside and rebuilds the library from your images; no image is deleted.',
  DATABASE_TOO_NEW:
    'The library was written by a newer VGT Studio. Update VGT Studio, or start it with another data folder.',
  SEARCH_SYNTAX: 'The search could not be understood. Use plain words; end a word with * to match its beginning.',
  DOWNLOAD_FAILED:
    'The download failed. Check the address and the connection, then try again; it resumes where it stopped.',
  MODEL_EXISTS:
    'A model with that id is installed already. Remove it in the Models view first, or keep the one you have.',
  DISK_FULL: 'The disk is full. Free some space (emptying the Gallery’s trash helps), then try again.',
  INTERNAL:
    'Something went wrong inside the studio. Try again; if it happens again, the details below help a bug report.',
};

/** What a field of a request is called on screen, and its allowed values; for INVALID_PAYLOAD. */
const FIELDS: Readonly<Record<string, string>> = {
  seed: 'The seed is a whole number from 0 to 9007199254740991 (at most 16 digits). Shorten it, or clear it for a random seed.',
  orderSeed:
    'The order seed is a whole number from 0 to 9007199254740991 (at most 16 digits). Shorten it, or clear it to follow the seed.',
  count: 'Images per run is a whole number from 1 to 16.',
  steps: 'Steps is a whole number from 1 to 1000.',
  tokensPerStep: 'Tokens per step is a whole number from 1 up to the number of tokens in the image.',
  cfg: 'Guidance is a number from 0 to 100.',
  prompt: 'The prompt is too long. Shorten it; the model reads only its first 256 tokens anyway.',
  sha256: 'The SHA-256 is 64 hexadecimal characters (0–9 and a–f), exactly as the model’s publisher lists it.',
  url: 'The address is the https:// link to a vgt-bundle.json file, or hf:owner/repo.',
  name: 'A name needs 1 to 64 visible characters.',
  add: 'A tag needs 1 to 64 visible characters.',
  text: 'The search is at most 512 characters.',
};

/** Text people should not have to read: schema checks, native libraries' own words, traces and system codes. */
const TECHNICAL =
  /Invalid request for|Too (big|small)|expected (int|number|string|boolean|array|object)|Input buffer|unsupported image format|\bvips\b|onnxruntime|\bOrt\w*|\[E:|\.(cc|cpp|h|hpp):\d+|\n\s+at |SqliteError|SQLITE_|\bE[A-Z]{3,}\b|Failed to fetch|NetworkError|Unexpected token|is not a function|Cannot read propert/;

export function isTechnical(text: string): boolean {
  return TECHNICAL.test(text);
}

function codeAndMessage(error: unknown): Readonly<{ code: ErrorCode | null; message: string }> {
  if (error instanceof StudioError) return { code: error.code, message: error.message };
  return { code: null, message: error instanceof Error ? error.message : String(error) };
}

/** The first field a schema check names (`seed: Too big…` → `seed`), for INVALID_PAYLOAD. */
function invalidField(message: string): string | null {
  const body = message.replace(/^Invalid request for [\w.]+:\s*/, '');
  const match = /^([\w.[\]]+):/.exec(body);
  const path = match?.[1]?.split('.') ?? [];
  return path.reverse().find((part) => part in FIELDS) ?? null;
}

export function humanize(error: unknown): HumanError {
  const { code, message } = codeAndMessage(error);
  if (code === null) {
    // A fetch that never reached the studio.
    if (/Failed to fetch|NetworkError|network/i.test(message)) {
      return {
        code,
        message: 'The studio did not answer. Check that it is still running, then try again.',
        details: message,
      };
    }
    return isTechnical(message) || !message
      ? { code, message: SENTENCES.INTERNAL ?? message, details: message || null }
      : { code, message, details: null };
  }
  if (code === 'INVALID_PAYLOAD') {
    const field = invalidField(message);
    const sentence = (field ? FIELDS[field] : undefined) ?? SENTENCES.INVALID_PAYLOAD ?? message;
    return { code, message: sentence, details: isTechnical(message) ? message : null };
  }
  const sentence = SENTENCES[code];
  if (sentence && isTechnical(message)) return { code, message: sentence, details: message };
  if (sentence && message === ERROR_CODES[code]) return { code, message: sentence, details: null };
  return { code, message, details: null };
}

/** The sentence to show for a failure. */
export function messageOf(error: unknown): string {
  return humanize(error).message;
}

/** The technical text behind it, for a "Details" disclosure; null when there is none worth showing. */
export function detailsOf(error: unknown): string | null {
  return humanize(error).details;
}

export function codeOf(error: unknown): string | null {
  return error instanceof StudioError ? error.code : null;
}

/**
 * A reason from a native library as text (an execution provider that did not start): a short sentence for people,
 * the reason itself as details.
 */
export function humanReason(reason: string, fallback: string): HumanError {
  return isTechnical(reason) || reason.length > 160
    ? { code: null, message: fallback, details: reason }
    : { code: null, message: reason, details: null };
}
