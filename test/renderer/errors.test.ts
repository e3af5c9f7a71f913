// Every failure the UI shows reads as a sentence with its fix; the technical text stays available as details.
import { describe, expect, it } from 'vitest';
import { ERROR_CODES, StudioError, type ErrorCode } from '../../electron/common/errors';
import { detailsOf, humanReason, humanize, isTechnical, messageOf } from '../../renderer/src/lib/errors';

describe('human errors', () => {
  it('turns the huge-seed schema error into the seed’s range and keeps the schema text as details', () => {
    const raw =
      'Invalid request for generation.generate: seed: Too big: expected int to be <=9007199254740991; seed: Too big: expected number to be <=9007199254740991';
    const error = new StudioError('INVALID_PAYLOAD', raw);
    expect(messageOf(error)).toMatch(/^The seed is a whole number from 0 to 9007199254740991/);
    expect(messageOf(error)).toMatch(/clear it for a random seed/);
    expect(detailsOf(error)).toBe(raw);
    const sha = new StudioError(
      'INVALID_PAYLOAD',
      'Invalid request for models.download: sha256: A sha256 is 64 hexadecimal digits.',
    );
    expect(messageOf(sha)).toMatch(/^The SHA-256 is 64 hexadecimal characters/);
    const nested = new StudioError('INVALID_PAYLOAD', 'Invalid request for x: image.kind: Invalid input');
    expect(messageOf(nested)).toBe(humanize(new StudioError('INVALID_PAYLOAD', 'Invalid request for y: z')).message);
  });

  it('hides sharp’s and onnxruntime’s own words behind a sentence with the fix', () => {
    const sharp = new StudioError(
      'IMAGE_INVALID',
      'The image cannot be read: Input buffer contains unsupported image format. Use a PNG, JPEG or WebP file.',
    );
    expect(messageOf(sharp)).toBe('This file is not an image the studio can read. Choose a PNG, JPEG or WebP image.');
    expect(detailsOf(sharp)).toMatch(/Input buffer contains unsupported image format/);
    const ort = new StudioError(
      'PROVIDER_FAILED',
      '[E:onnxruntime:, inference_session.cc:2544 operator()] Exception during initialization: webgpu_context.cc:168',
    );
    expect(messageOf(ort)).toMatch(/Execution provider to CPU/);
    expect(detailsOf(ort)).toMatch(/inference_session\.cc/);
    const reason = humanReason(ort.message, 'It did not start on this machine.');
    expect([reason.message, reason.details]).toEqual(['It did not start on this machine.', ort.message]);
    expect(humanReason('not in this build', 'x')).toEqual({ code: null, message: 'not in this build', details: null });
  });

  it('keeps a message the studio wrote for people, and replaces a bare catalog default with its fix', () => {
    const written = new StudioError('BUSY', 'Generation 4 is running; cancel it before deleting.');
    expect([messageOf(written), detailsOf(written)]).toEqual([written.message, null]);
    const bare = new StudioError('DISK_FULL');
    expect(messageOf(bare)).toMatch(/Free some space/);
    expect(isTechnical(written.message)).toBe(false);
  });

  it('has a sentence that differs from the bare catalog text for every code the UI can show', () => {
    const shown: Array<ErrorCode> = (Object.keys(ERROR_CODES) as Array<ErrorCode>).filter(
      (c) => !['UNKNOWN_CALL', 'USAGE', 'PATH_OUTSIDE_LIBRARY', 'UNSUPPORTED'].includes(c),
    );
    for (const code of shown) {
      const message = messageOf(new StudioError(code));
      expect(message, code).not.toBe(ERROR_CODES[code]);
      expect(message.length, code).toBeGreaterThan(20);
    }
  });

  it('says the studio did not answer when the request never reached it', () => {
    const human = humanize(new TypeError('Failed to fetch'));
    expect(human.message).toMatch(/did not answer/);
    expect(human.details).toBe('Failed to fetch');
    expect(messageOf(new Error('Exported the PNG.'))).toBe('Exported the PNG.');
  });
});
