// A resumable, verified download of one file. The bytes go to `<dest>.partial`, beside a sidecar
// `<dest>.partial.json` (partial-file.ts) that remembers the URL, the server's validators (ETag / Last-Modified), the
// total size and the expected sha256, so a later run (after a cancel, a crash or an app restart) resumes with HTTP
// Range + If-Range and starts over only when the server's file changed. Dropped connections, stalls and server errors are retried
// with exponential backoff; the finished file is checked for size and sha256 (its own phase) and renamed into place.
import { mkdir, open, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { StudioError } from '../common/errors';
import { sha256File } from './manifest';
import {
  discardPartial,
  fileSize,
  partialPath,
  readSidecar,
  sidecarPath,
  writeSidecar,
  type Sidecar,
} from './partial-file';

export type RetryPolicy = Readonly<{
  /** Consecutive attempts that bring no new byte before giving up. */
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** No byte for this long on an open connection counts as a stall: the attempt is dropped and retried. */
  stallMs: number;
}>;

export const DEFAULT_POLICY: RetryPolicy = { maxAttempts: 8, baseDelayMs: 1000, maxDelayMs: 60_000, stallMs: 30_000 };

export type FileProgress = Readonly<{
  phase: 'downloading' | 'retrying' | 'verifying';
  /** Bytes in the partial file (downloading) or hashed so far (verifying). */
  bytes: number;
  totalBytes: number | null;
  attempt: number;
  /** Bytes the current run found from an earlier one. */
  resumedFrom: number;
  message?: string;
}>;

export type FileDownload = Readonly<{
  url: string;
  dest: string;
  sha256: string;
  /** The size the caller knows the file must have (from the bundle manifest), if any. */
  expectedBytes?: number;
  /** Refuse anything larger (a manifest URL that turns out to name a multi-GB file). */
  maxBytes?: number;
  signal?: AbortSignal;
  policy?: RetryPolicy;
  fetch?: typeof fetch;
  onProgress?: (progress: FileProgress) => void;
}>;

/** What happened, for logs and tests. */
export type FileDownloadReport = Readonly<{
  /** Bytes received over the network by this run. */
  transferredBytes: number;
  resumedFrom: number;
  /** Times the download started over from byte 0 (server file changed, no Range support, bad bytes after a resume). */
  restarts: number;
  attempts: number;
}>;

/** A failure the next attempt may get past (a dropped connection, a stall, a 5xx). */
class Retryable extends Error {}
/** The bytes on disk are unusable: the next attempt starts from zero. */
class StartOver extends Error {}

/** `bytes 100-199/1000` → start and total (null when `*`). */
function parseContentRange(value: string | null): { start: number; total: number | null } | null {
  const match = /^bytes (\d+)-\d+\/(\d+|\*)$/.exec(value?.trim() ?? '');
  if (!match) return null;
  return { start: Number(match[1]), total: match[2] === '*' ? null : Number(match[2]) };
}

function backoff(policy: RetryPolicy, failures: number): number {
  const base = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (failures - 1));
  // Jitter keeps many clients from retrying in lockstep against a struggling server.
  return Math.round(base * (0.75 + Math.random() * 0.5));
}

function cancelled(): StudioError {
  return new StudioError('CANCELLED', 'The download was cancelled; its partial file is kept for a resume.');
}

function httpError(status: number, url: string): Error {
  const message = `The server answered ${status} for ${url}.`;
  // Timeouts, rate limits and server errors pass; anything else (404, 403, …) will not get better by retrying.
  return status === 408 || status === 429 || status >= 500
    ? new Retryable(message)
    : new StudioError('DOWNLOAD_FAILED', message);
}

export async function downloadFile(options: FileDownload): Promise<FileDownloadReport> {
  const run = await startRun(options);
  for (;;) {
    options.signal?.throwIfAborted();
    run.attempts += 1;
    const before = await fileSize(run.partial);
    try {
      await attempt(run, before);
      break;
    } catch (error) {
      await recover(run, error, before);
    }
  }
  return verifyAndPlace(run);
}

/** One run of `downloadFile` across its attempts. */
type Run = {
  readonly options: FileDownload;
  readonly policy: RetryPolicy;
  readonly fetch: typeof fetch;
  /** Lower-case. */
  readonly sha256: string;
  readonly partial: string;
  /** Bytes the run found from an earlier one. */
  readonly resumedFrom: number;
  sidecar: Sidecar;
  transferred: number;
  restarts: number;
  attempts: number;
  /** Consecutive failed attempts without a new byte. */
  failures: number;
  /** Bytes of the partial file that came from an earlier response (so a bad hash may be a splice, worth one more go). */
  spliced: boolean;
};

/** Keeps the partial file only when its sidecar names the same URL and sha256. */
async function startRun(options: FileDownload): Promise<Run> {
  const { dest, url } = options;
  const sha256 = options.sha256.toLowerCase();
  const partial = partialPath(dest);
  await mkdir(path.dirname(dest), { recursive: true });
  let sidecar = await readSidecar(dest);
  if (!sidecar || sidecar.url !== url || sidecar.sha256 !== sha256) {
    await discardPartial(dest);
    sidecar = { version: 1, url, sha256, etag: null, lastModified: null, totalBytes: options.expectedBytes ?? null };
  }
  const resumedFrom = await fileSize(partial);
  return {
    options,
    policy: options.policy ?? DEFAULT_POLICY,
    fetch: options.fetch ?? fetch,
    sha256,
    partial,
    resumedFrom,
    sidecar,
    transferred: 0,
    restarts: 0,
    attempts: 0,
    failures: 0,
    spliced: resumedFrom > 0,
  };
}

function report(run: Run, progress: Omit<FileProgress, 'attempt' | 'resumedFrom'>): void {
  run.options.onProgress?.({ ...progress, attempt: Math.max(1, run.attempts), resumedFrom: run.resumedFrom });
}

/** Aborts a request when no byte came for `ms`; `arm` restarts the clock. */
function stallGuard(ms: number) {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  return {
    signal: controller.signal,
    arm(): void {
      clearTimeout(timer);
      timer = setTimeout(() => controller.abort(), ms);
    },
    clear: (): void => clearTimeout(timer),
  };
}

type Stall = ReturnType<typeof stallGuard>;

/**
 * One request, its bytes appended to the partial file (`have` bytes on disk). Returns when the file is whole (or the
 * server has nothing past its end: verification decides); throws Retryable, StartOver, or what no retry mends.
 */
async function attempt(run: Run, have: number): Promise<void> {
  const headers = rangeHeaders(run.sidecar, have);
  const stall = stallGuard(run.policy.stallMs);
  stall.arm();
  try {
    const response = await request(run, headers, stall);
    const accepted = await acceptResponse(run, response, have);
    if (accepted === null) return;
    const total = accepted.total ?? run.sidecar.totalBytes;
    await refuseWrongSize(run, response, total);
    const etag = response.headers.get('etag');
    const lastModified = response.headers.get('last-modified');
    run.sidecar = { ...run.sidecar, etag, lastModified, totalBytes: total };
    // The sidecar is written before the first byte, so a crash at any point leaves a resumable pair.
    await writeSidecar(run.options.dest, run.sidecar);
    if (!response.body) throw new Retryable('The server sent no body.');
    const written = await writeBody(run, response.body, accepted.have, total, stall);
    if (total !== null && written < total) throw new Retryable('The connection ended before the whole file came.');
    report(run, { phase: 'downloading', bytes: written, totalBytes: total });
  } finally {
    stall.clear();
  }
}

function rangeHeaders(sidecar: Sidecar, have: number): Record<string, string> {
  const headers: Record<string, string> = { 'Accept-Encoding': 'identity' };
  // If-Range needs a strong validator: a weak ETag would make every resume start over.
  const validator = sidecar.etag && !sidecar.etag.startsWith('W/') ? sidecar.etag : sidecar.lastModified;
  if (have > 0) {
    headers.Range = `bytes=${have}-`;
    if (validator) headers['If-Range'] = validator;
  }
  return headers;
}

async function request(run: Run, headers: Record<string, string>, stall: Stall): Promise<Response> {
  const { url, signal } = run.options;
  const requestSignal = signal ? AbortSignal.any([signal, stall.signal]) : stall.signal;
  try {
    return await run.fetch(url, { headers, signal: requestSignal, redirect: 'follow' });
  } catch (error) {
    if (signal?.aborted) throw cancelled();
    throw new Retryable(stall.signal.aborted ? 'The server did not answer.' : `Could not connect: ${causeOf(error)}`);
  }
}

/**
 * What the response's status means for the partial file: the offset its bytes start at and the total it announces,
 * or null when the server has nothing past our end (416: the partial file may be complete, which verification
 * decides). A changed file or an unexpected range starts over; a 200 to a resume restarts from byte 0.
 */
async function acceptResponse(
  run: Run,
  response: Response,
  have: number,
): Promise<{ have: number; total: number | null } | null> {
  const { sidecar } = run;
  const etag = response.headers.get('etag');
  const lastModified = response.headers.get('last-modified');
  if (response.status === 416 && have > 0) {
    await response.body?.cancel();
    return null;
  }
  if (response.status === 206) {
    const range = parseContentRange(response.headers.get('content-range'));
    const changed = sidecar.etag !== null && etag !== null && etag !== sidecar.etag;
    if (!range || range.start !== have || changed) {
      await response.body?.cancel();
      throw new StartOver(changed ? 'The file on the server changed.' : 'The server sent an unexpected range.');
    }
    return { have, total: range.total };
  }
  if (response.status === 200) {
    if (have > 0) {
      const changed =
        (sidecar.etag !== null && etag !== sidecar.etag) ||
        (sidecar.lastModified !== null && lastModified !== sidecar.lastModified);
      report(run, {
        phase: 'downloading',
        bytes: 0,
        totalBytes: sidecar.totalBytes,
        message: changed
          ? 'The file on the server changed: starting over.'
          : 'The server cannot resume: starting over.',
      });
      run.restarts += 1;
      run.spliced = false;
    }
    const length = response.headers.get('content-length');
    return { have: 0, total: length !== null && /^\d+$/.test(length) ? Number(length) : null };
  }
  await response.body?.cancel();
  throw httpError(response.status, run.options.url);
}

/** Refuses, before any byte is written, a file whose announced size is not the expected one or is too large. */
async function refuseWrongSize(run: Run, response: Response, total: number | null): Promise<void> {
  const { expectedBytes, maxBytes, url } = run.options;
  if (expectedBytes !== undefined && total !== null && total !== expectedBytes) {
    await response.body?.cancel();
    throw new StudioError(
      'DOWNLOAD_FAILED',
      `The server's file has ${total} bytes; ${expectedBytes} were expected. Check the URL.`,
    );
  }
  if (maxBytes !== undefined && total !== null && total > maxBytes) {
    await response.body?.cancel();
    throw tooLarge(url, maxBytes);
  }
}

/** Streams the body onto the partial file from `start` (0: truncated first); returns the bytes it then holds. */
async function writeBody(
  run: Run,
  body: ReadableStream<Uint8Array>,
  start: number,
  total: number | null,
  stall: Stall,
): Promise<number> {
  const { maxBytes, url, signal } = run.options;
  let have = start;
  const handle = await open(run.partial, have === 0 ? 'w' : 'a');
  let lastReport = 0;
  try {
    const reader = body.getReader();
    for (;;) {
      let chunk: ReadableStreamReadResult<Uint8Array>;
      try {
        chunk = await reader.read();
      } catch (error) {
        if (signal?.aborted) throw cancelled();
        throw new Retryable(
          stall.signal.aborted
            ? `No data for ${Math.round(run.policy.stallMs / 1000)} s: the download stalled.`
            : `The connection dropped: ${causeOf(error)}`,
        );
      }
      if (chunk.done) break;
      stall.arm();
      await handle.write(chunk.value);
      have += chunk.value.length;
      run.transferred += chunk.value.length;
      if (total !== null && have > total) {
        throw new StudioError('DOWNLOAD_FAILED', `The server sent more than the ${total} bytes it announced.`);
      }
      if (maxBytes !== undefined && have > maxBytes) throw tooLarge(url, maxBytes);
      const now = Date.now();
      if (now - lastReport >= 200) {
        lastReport = now;
        report(run, { phase: 'downloading', bytes: have, totalBytes: total });
      }
    }
  } finally {
    await handle.close();
  }
  return have;
}

/**
 * After a failed attempt (`before` bytes on disk when it began): starts over from zero, or waits out a backoff; throws
 * what no retry mends, and gives up after `maxAttempts` attempts in a row without a new byte.
 */
async function recover(run: Run, error: unknown, before: number): Promise<void> {
  if (error instanceof StartOver) {
    await discardPartial(run.options.dest);
    run.sidecar = { ...run.sidecar, etag: null, lastModified: null };
    run.restarts += 1;
    run.spliced = false;
    run.failures = 0;
    report(run, {
      phase: 'retrying',
      bytes: 0,
      totalBytes: run.sidecar.totalBytes,
      message: `${error.message} Starting over.`,
    });
    return;
  }
  if (!(error instanceof Retryable)) throw error;
  if ((await fileSize(run.partial)) > before) {
    run.failures = 0;
    run.spliced = true;
  }
  run.failures += 1;
  if (run.failures >= run.policy.maxAttempts) {
    throw new StudioError(
      'DOWNLOAD_FAILED',
      `${error.message} Gave up after ${run.failures} attempts without progress; run the download again to resume.`,
    );
  }
  const wait = backoff(run.policy, run.failures);
  report(run, {
    phase: 'retrying',
    bytes: await fileSize(run.partial),
    totalBytes: run.sidecar.totalBytes,
    message: `${error.message} Retrying in ${(wait / 1000).toFixed(1)} s.`,
  });
  try {
    await delay(wait, undefined, { signal: run.options.signal });
  } catch {
    throw cancelled();
  }
}

/** Verification is its own phase: a size check, then the sha256 of every byte on disk; then the rename into place. */
async function verifyAndPlace(run: Run): Promise<FileDownloadReport> {
  const { options, partial } = run;
  const { dest, signal } = options;
  const size = await fileSize(partial);
  const wanted = options.expectedBytes ?? run.sidecar.totalBytes;
  let verified = 0;
  report(run, { phase: 'verifying', bytes: 0, totalBytes: size });
  const digest =
    wanted !== null && size !== wanted
      ? null
      : await sha256File(
          partial,
          (bytes) => {
            verified += bytes;
            report(run, { phase: 'verifying', bytes: verified, totalBytes: size });
          },
          signal,
        ).catch((error: unknown) => {
          if (signal?.aborted) throw cancelled();
          throw error;
        });
  const done = { transferredBytes: run.transferred, resumedFrom: run.resumedFrom, restarts: run.restarts };
  if (digest !== run.sha256) {
    await discardPartial(dest);
    const what = digest === null ? `has ${size} bytes instead of ${wanted}` : 'does not match its sha256';
    if (run.spliced) {
      // Bytes from two responses may not belong together (a server that changed its file without new validators):
      // one fresh download settles whether the server itself is wrong.
      const again = await downloadFile(options);
      return {
        transferredBytes: done.transferredBytes + again.transferredBytes,
        resumedFrom: done.resumedFrom,
        restarts: done.restarts + 1 + again.restarts,
        attempts: run.attempts + again.attempts,
      };
    }
    throw new StudioError('DOWNLOAD_FAILED', `The downloaded file ${what}: the server sent the wrong bytes.`);
  }
  await rename(partial, dest);
  await rm(sidecarPath(dest), { force: true });
  return { ...done, attempts: run.attempts };
}

function tooLarge(url: string, maxBytes: number): StudioError {
  return new StudioError('DOWNLOAD_FAILED', `${url} is larger than ${maxBytes} bytes: it is not what was expected.`);
}

function causeOf(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (error as Error).message;
}
