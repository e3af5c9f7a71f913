// The one catalog of error codes that cross a process or network boundary.
// Every failure the renderer, a web client or the CLI sees is `{ code, message }` with a code from here.

import type { z } from 'zod';

export const ERROR_CODES = {
  UNKNOWN_CALL: 'No such call in the studio API.',
  USAGE: 'The command line is not understood; see `vgt --help`.',
  INVALID_PAYLOAD: 'The request does not match the call’s schema.',
  PAYLOAD_TOO_LARGE: 'The request body is larger than the studio accepts.',
  FORBIDDEN: 'The request did not come from the studio itself.',
  NOT_FOUND: 'The requested item does not exist.',
  PATH_OUTSIDE_LIBRARY: 'The path points outside the studio’s data folder.',
  MODEL_NOT_FOUND: 'No model with that id is installed.',
  MODEL_INVALID: 'The model bundle is broken or of an unknown format.',
  IMAGE_INVALID: 'The image could not be read.',
  PROVIDER_FAILED: 'The execution provider failed.',
  OUT_OF_MEMORY: 'The model ran out of memory.',
  CANCELLED: 'The work was cancelled.',
  BUSY: 'The engine is busy with other work.',
  DATABASE_CORRUPT: 'The library database is damaged or not a database.',
  DATABASE_TOO_NEW: 'The library database was written by a newer VGT Studio.',
  SEARCH_SYNTAX: 'The search text could not be understood.',
  DOWNLOAD_FAILED: 'The download failed.',
  MODEL_EXISTS: 'A model with that id is installed already.',
  DISK_FULL: 'There is not enough free disk space.',
  UNSUPPORTED: 'This needs the desktop app: web mode and the command line cannot do it.',
  INTERNAL: 'An unexpected error happened inside the studio.',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export type ErrorPayload = Readonly<{ code: ErrorCode; message: string }>;

/** An error meant for users: its code is from the catalog, its message says what went wrong and, where possible, what to do. */
export class StudioError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message?: string, options?: { cause?: unknown }) {
    super(message ?? ERROR_CODES[code], options);
    this.name = 'StudioError';
    this.code = code;
  }

  toPayload(): ErrorPayload {
    return { code: this.code, message: this.message };
  }
}

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(ERROR_CODES, value);
}

/** Turns anything thrown into a payload that is safe to send: unknown errors become INTERNAL with their message only. */
export function toErrorPayload(error: unknown): ErrorPayload {
  if (error instanceof StudioError) return error.toPayload();
  if (typeof error === 'object' && error !== null) {
    const { code, message } = error as { code?: unknown; message?: unknown };
    if (isErrorCode(code) && typeof message === 'string') return { code, message };
  }
  const message = error instanceof Error ? error.message : String(error);
  return { code: 'INTERNAL', message: message || ERROR_CODES.INTERNAL };
}

/** Formats zod issues into one line a person can act on, e.g. `prompt: Too big: expected string to have <=4096 characters`. */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((issue) => {
      const path = issue.path.map(String).join('.');
      return path ? `${path}: ${issue.message}` : issue.message;
    })
    .join('; ');
}
