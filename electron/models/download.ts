// A resumable, verified download of one file. The bytes go to `<dest>.partial`, beside a sidecar
// `<dest>.partial.json` that remembers the URL, the server's validators (ETag / Last-Modified), the total size and
// the expected sha256, so a later run (after a cancel, a crash or an app restart) resumes with HTTP Range + If-Range
// and starts over only when the server's file changed. Dropped connections, stalls and server errors are retried
// with exponential backoff; the finished file is checked for size and sha256 (its own phase) and renamed into place.
import { mkdir, open, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { StudioError } from '../common/errors';
import { sha256File } from './manifest';

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

type Sidecar = {
  version: 1;
  url: string;
  sha256: string;
  etag: string | null;
  lastModified: string | null;
  totalBytes: number | null;
};

/** A failure the next attempt may get past (a dropped connection, a stall, a 5xx). */
class Retryable extends Error {}
/** The bytes on disk are unusable: the next attempt starts from zero. */
class StartOver extends Error {}

export const partialPath = (dest: string) => `${dest}.partial`;
export const sidecarPath = (dest: string) => `${dest}.partial.json`;

async function readSidecar(dest: string): Promise<Sidecar | null> {
  try {
    const json = JSON.parse(await readFile(sidecarPath(dest), 'utf8')) as Partial<Sidecar>;
    if (json.version !== 1 || typeof json.url !== 'string' || typeof json.sha256 !== 'string') return null;
    return {
      version: 1,
      url: json.url,
      sha256: json.sha256,
      etag: typeof json.etag === 'string' ? json.etag : null,
      lastModified: typeof json.lastModified === 'string' ? json.lastModified : null,
      totalBytes: typeof json.totalBytes === 'number' ? json.totalBytes : null,
    };
  } catch {
    return null;
  }
}

async function writeSidecar(dest: string, sidecar: Sidecar): Promise<void> {
  const temp = `${sidecarPath(dest)}.tmp`;
  await writeFile(temp, JSON.stringify(sidecar));
  await rename(temp, sidecarPath(dest));
}

async function fileSize(file: string): Promise<number> {
  try {
    return (await stat(file)).size;
  } catch {
    return 0;
  }
}

/** Removes a download's partial file and sidecar (a discard, or bytes that failed verification). */
export async function discardPartial(dest: string): Promise<void> {
  await rm(partialPath(dest), { force: true });
  await rm(sidecarPath(dest), { force: true });
}

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
  const policy = options.policy ?? DEFAULT_POLICY;
  const doFetch = options.fetch ?? fetch;
  const { dest, url, signal } = options;
  const sha256 = options.sha256.toLowerCase();
  const partial = partialPath(dest);
  await mkdir(path.dirname(dest), { recursive: true });

  let sidecar = await readSidecar(dest);
  if (!sidecar || sidecar.url !== url || sidecar.sha256 !== sha256) {
    await discardPartial(dest);
    sidecar = { version: 1, url, sha256, etag: null, lastModified: null, totalBytes: options.expectedBytes ?? null };
  }
  const resumedFrom = await fileSize(partial);
  let transferred = 0;
  let restarts = 0;
  let attempts = 0;
  let failures = 0;
  /** Bytes of the partial file that came from an earlier response (so a bad hash may be a splice, worth one more go). */
  let spliced = resumedFrom > 0;
  const report = (progress: Omit<FileProgress, 'attempt' | 'resumedFrom'>) =>
    options.onProgress?.({ ...progress, attempt: Math.max(1, attempts), resumedFrom });

  for (;;) {
    signal?.throwIfAborted();
    attempts += 1;
    let have = await fileSize(partial);
    const before = have;
    try {
      const headers: Record<string, string> = { 'Accept-Encoding': 'identity' };
      // If-Range needs a strong validator: a weak ETag would make every resume start over.
      const validator = sidecar.etag && !sidecar.etag.startsWith('W/') ? sidecar.etag : sidecar.lastModified;
      if (have > 0) {
        headers.Range = `bytes=${have}-`;
        if (validator) headers['If-Range'] = validator;
      }
      const stall = new AbortController();
      let stallTimer: NodeJS.Timeout | undefined;
      const armStall = () => {
        clearTimeout(stallTimer);
        stallTimer = setTimeout(() => stall.abort(), policy.stallMs);
      };
      armStall();
      const requestSignal = signal ? AbortSignal.any([signal, stall.signal]) : stall.signal;
      try {
        let response: Response;
        try {
          response = await doFetch(url, { headers, signal: requestSignal, redirect: 'follow' });
        } catch (error) {
          if (signal?.aborted) throw cancelled();
          throw new Retryable(
            stall.signal.aborted ? 'The server did not answer.' : `Could not connect: ${causeOf(error)}`,
          );
        }
        const etag = response.headers.get('etag');
        const lastModified = response.headers.get('last-modified');
        let total: number | null;
        if (response.status === 416 && have > 0) {
          // Nothing past our end: the partial file may be complete, which verification decides.
          await response.body?.cancel();
          break;
        } else if (response.status === 206) {
          const range = parseContentRange(response.headers.get('content-range'));
          const changed = sidecar.etag !== null && etag !== null && etag !== sidecar.etag;
          if (!range || range.start !== have || changed) {
            await response.body?.cancel();
            throw new StartOver(changed ? 'The file on the server changed.' : 'The server sent an unexpected range.');
          }
          total = range.total;
        } else if (response.status === 200) {
          if (have > 0) {
            const changed =
              (sidecar.etag !== null && etag !== sidecar.etag) ||
              (sidecar.lastModified !== null && lastModified !== sidecar.lastModified);
            report({
              phase: 'downloading',
              bytes: 0,
              totalBytes: sidecar.totalBytes,
              message: changed
                ? 'The file on the server changed: starting over.'
                : 'The server cannot resume: starting over.',
            });
            restarts += 1;
            have = 0;
            spliced = false;
          }
          const length = response.headers.get('content-length');
          total = length !== null && /^\d+$/.test(length) ? Number(length) : null;
        } else {
          await response.body?.cancel();
          throw httpError(response.status, url);
        }
        total ??= sidecar.totalBytes;
        if (options.expectedBytes !== undefined && total !== null && total !== options.expectedBytes) {
          await response.body?.cancel();
          throw new StudioError(
            'DOWNLOAD_FAILED',
            `The server's file has ${total} bytes; ${options.expectedBytes} were expected. Check the URL.`,
          );
        }
        if (options.maxBytes !== undefined && total !== null && total > options.maxBytes) {
          await response.body?.cancel();
          throw tooLarge(url, options.maxBytes);
        }
        sidecar = { ...sidecar, etag, lastModified, totalBytes: total };
        // The sidecar is written before the first byte, so a crash at any point leaves a resumable pair.
        await writeSidecar(dest, sidecar);
        if (!response.body) throw new Retryable('The server sent no body.');
        const handle = await open(partial, have === 0 ? 'w' : 'a');
        let lastReport = 0;
        try {
          const reader = response.body.getReader();
          for (;;) {
            let chunk: ReadableStreamReadResult<Uint8Array>;
            try {
              chunk = await reader.read();
            } catch (error) {
              if (signal?.aborted) throw cancelled();
              throw new Retryable(
                stall.signal.aborted
                  ? `No data for ${Math.round(policy.stallMs / 1000)} s: the download stalled.`
                  : `The connection dropped: ${causeOf(error)}`,
              );
            }
            if (chunk.done) break;
            armStall();
            await handle.write(chunk.value);
            have += chunk.value.length;
            transferred += chunk.value.length;
            if (total !== null && have > total) {
              throw new StudioError('DOWNLOAD_FAILED', `The server sent more than the ${total} bytes it announced.`);
            }
            if (options.maxBytes !== undefined && have > options.maxBytes) throw tooLarge(url, options.maxBytes);
            const now = Date.now();
            if (now - lastReport >= 200) {
              lastReport = now;
              report({ phase: 'downloading', bytes: have, totalBytes: total });
            }
          }
        } finally {
          await handle.close();
        }
        if (total !== null && have < total) throw new Retryable('The connection ended before the whole file came.');
        report({ phase: 'downloading', bytes: have, totalBytes: total });
        break;
      } finally {
        clearTimeout(stallTimer);
      }
    } catch (error) {
      if (error instanceof StartOver) {
        await discardPartial(dest);
        sidecar = { ...sidecar, etag: null, lastModified: null };
        restarts += 1;
        spliced = false;
        failures = 0;
        report({
          phase: 'retrying',
          bytes: 0,
          totalBytes: sidecar.totalBytes,
          message: `${error.message} Starting over.`,
        });
        continue;
      }
      if (!(error instanceof Retryable)) throw error;
      if ((await fileSize(partial)) > before) {
        failures = 0;
        spliced = true;
      }
      failures += 1;
      if (failures >= policy.maxAttempts) {
        throw new StudioError(
          'DOWNLOAD_FAILED',
          `${error.message} Gave up after ${failures} attempts without progress; run the download again to resume.`,
        );
      }
      const wait = backoff(policy, failures);
      report({
        phase: 'retrying',
        bytes: await fileSize(partial),
        totalBytes: sidecar.totalBytes,
        message: `${error.message} Retrying in ${(wait / 1000).toFixed(1)} s.`,
      });
      try {
        await delay(wait, undefined, { signal });
      } catch {
        throw cancelled();
      }
    }
  }

  // Verification is its own phase: a size check, then the sha256 of every byte on disk.
  const size = await fileSize(partial);
  const wanted = options.expectedBytes ?? sidecar.totalBytes;
  let verified = 0;
  report({ phase: 'verifying', bytes: 0, totalBytes: size });
  const digest =
    wanted !== null && size !== wanted
      ? null
      : await sha256File(
          partial,
          (bytes) => {
            verified += bytes;
            report({ phase: 'verifying', bytes: verified, totalBytes: size });
          },
          signal,
        ).catch((error: unknown) => {
          if (signal?.aborted) throw cancelled();
          throw error;
        });
  if (digest !== sha256) {
    await discardPartial(dest);
    const what = digest === null ? `has ${size} bytes instead of ${wanted}` : 'does not match its sha256';
    if (spliced) {
      // Bytes from two responses may not belong together (a server that changed its file without new validators):
      // one fresh download settles whether the server itself is wrong.
      const again = await downloadFile(options);
      return {
        transferredBytes: transferred + again.transferredBytes,
        resumedFrom,
        restarts: restarts + 1 + again.restarts,
        attempts: attempts + again.attempts,
      };
    }
    throw new StudioError('DOWNLOAD_FAILED', `The downloaded file ${what}: the server sent the wrong bytes.`);
  }
  await rename(partial, dest);
  await rm(sidecarPath(dest), { force: true });
  return { transferredBytes: transferred, resumedFrom, restarts, attempts };
}

function tooLarge(url: string, maxBytes: number): StudioError {
  return new StudioError('DOWNLOAD_FAILED', `${url} is larger than ${maxBytes} bytes: it is not what was expected.`);
}

function causeOf(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (error as Error).message;
}
