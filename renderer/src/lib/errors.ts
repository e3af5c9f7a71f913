// What the UI says when a call fails: the catalogued message, which already says what to do where it can.
import { StudioError } from '../../../electron/common/errors';

export function messageOf(error: unknown): string {
  if (error instanceof StudioError) return error.message;
  return error instanceof Error ? error.message : String(error);
}

export function codeOf(error: unknown): string | null {
  return error instanceof StudioError ? error.code : null;
}
