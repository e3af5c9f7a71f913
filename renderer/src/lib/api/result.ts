// Both transports answer with a CallResult; this turns it into a value or a thrown StudioError.
import type { CallResult } from '../../../../electron/common/contract';
import { StudioError, isErrorCode } from '../../../../electron/common/errors';

export function unwrap<T>(result: CallResult<unknown>): T {
  if (result.ok) return result.value as T;
  const code = isErrorCode(result.error.code) ? result.error.code : 'INTERNAL';
  throw new StudioError(code, result.error.message);
}
