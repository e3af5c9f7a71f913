// What the two custom schemes may serve, decided without Electron so tests can throw every trick at it:
// app://studio/<path> serves the built renderer; vgt-file://<path> serves images of the data folder, nothing else.
import path from 'node:path';
import { toErrorPayload } from '../common/errors';
import { resolveInside } from '../core/paths';
import { APP_HOST } from './security';

export type ProtocolAnswer = Readonly<{ file: string }> | Readonly<{ status: 400 | 403 | 404; message: string }>;

/** The library's pictures; the database, settings and model files stay out of the renderer's reach. */
export const LIBRARY_FILE_TYPES: ReadonlySet<string> = new Set(['.png', '.jpg', '.jpeg', '.webp']);

function confined(root: string, encoded: string, fallback?: string): ProtocolAnswer {
  let relative: string;
  try {
    relative = decodeURIComponent(encoded).replace(/^\/+/, '');
  } catch {
    return { status: 400, message: 'Malformed escape in the path.' };
  }
  try {
    return { file: resolveInside(root, relative || (fallback ?? '')) };
  } catch (error) {
    const payload = toErrorPayload(error);
    return payload.code === 'NOT_FOUND'
      ? { status: 404, message: payload.message }
      : { status: 403, message: payload.message };
  }
}

const NOT_A_URL: ProtocolAnswer = { status: 400, message: 'Not a URL.' };

export function resolveAppRequest(url: string, rendererRoot: string): ProtocolAnswer {
  const parsed = URL.parse(url);
  if (!parsed) return NOT_A_URL;
  if (parsed.host !== APP_HOST) return { status: 404, message: 'Not found.' };
  return confined(rendererRoot, parsed.pathname, 'index.html');
}

export function resolveLibraryRequest(url: string, home: string): ProtocolAnswer {
  const parsed = URL.parse(url);
  if (!parsed) return NOT_A_URL;
  const answer = confined(home, `${parsed.host}${parsed.pathname}`);
  if ('file' in answer && !LIBRARY_FILE_TYPES.has(path.extname(answer.file).toLowerCase())) {
    return { status: 403, message: 'Only images are served from the library.' };
  }
  return answer;
}
