// `vgt compare A B`: two library images side by side in numbers, as the Gallery's Compare shows them: their settings
// line by line and how far their pixels are apart (PSNR, mean and largest difference, share of changed pixels);
// `--diff FILE.png` writes the difference map the Compare view draws.
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { GenerationRecord } from '../../common/contract';
import { differenceMap, settingsDiff, type SettingLine } from '../../common/compare';
import { StudioError } from '../../common/errors';
import { psnr } from '../../engine/metrics';
import { decodeRgb, encodePng, type Rgb } from '../../platform/image';
import { call, type CliIo, type Command } from '../command';

const USAGE = 'vgt compare ID ID [--diff FILE.png]';

export type CompareResult = Readonly<{
  a: number;
  b: number;
  settings: ReadonlyArray<Readonly<{ setting: string; a: string; b: string; same: boolean }>>;
  differentSettings: number;
  /** Null when the two images have different sizes. */
  pixels: Readonly<{ psnr: number; meanAbsDiff: number; maxAbsDiff: number; changedShare: number }> | null;
  diff: string | null;
}>;

function parseId(raw: string | undefined): number {
  const id = Number(raw);
  if (raw === undefined || !Number.isSafeInteger(id) || id < 1) {
    throw new StudioError('USAGE', `${JSON.stringify(raw ?? '')} is not a generation id. Usage: ${USAGE}`);
  }
  return id;
}

function rgba(rgb: Rgb): Uint8ClampedArray {
  const out = new Uint8ClampedArray(rgb.width * rgb.height * 4);
  for (let p = 0; p < rgb.width * rgb.height; p++) {
    out.set(rgb.data.subarray(3 * p, 3 * p + 3), 4 * p);
    out[4 * p + 3] = 255;
  }
  return out;
}

function rgbOf(data: Uint8ClampedArray, width: number, height: number): Rgb {
  const out = new Uint8Array(width * height * 3);
  for (let p = 0; p < width * height; p++) out.set(data.subarray(4 * p, 4 * p + 3), 3 * p);
  return { width, height, data: out };
}

export const compare: Command = {
  summary: 'Compare two library images: settings line by line, pixel difference (PSNR), optional difference map',
  usage: USAGE,
  options: { diff: { type: 'string' } },
  async run(values, positionals, context): Promise<CompareResult> {
    if (positionals.length !== 2) throw new StudioError('USAGE', `Give two generation ids. Usage: ${USAGE}`);
    const [a, b] = [parseId(positionals[0]), parseId(positionals[1])];
    const studio = context.studio();
    const records = await Promise.all([a, b].map((id) => call<GenerationRecord>(studio, 'library.get', { id })));
    const [ra, rb] = records as [GenerationRecord, GenerationRecord];
    const lines: ReadonlyArray<SettingLine> = settingsDiff(ra.params, rb.params);
    const images = await Promise.all(
      records.map(async (r) => {
        if (r.file === null) throw new StudioError('NOT_FOUND', `Generation ${r.id} has no image to compare.`);
        return decodeRgb(await readFile(path.join(studio.home, ...r.file.split('/'))));
      }),
    );
    const [ia, ib] = images as [Rgb, Rgb];
    let pixels: CompareResult['pixels'] = null;
    let diff: string | null = null;
    if (ia.width === ib.width && ia.height === ib.height) {
      const map = differenceMap(rgba(ia), rgba(ib));
      pixels = { psnr: psnr(ia, ib), meanAbsDiff: map.mean, maxAbsDiff: map.max, changedShare: map.changed };
      if (values.diff) {
        diff = path.resolve(values.diff as string);
        await writeFile(diff, await encodePng(rgbOf(map.rgba, ia.width, ia.height)));
      }
    } else if (values.diff) {
      throw new StudioError(
        'IMAGE_INVALID',
        `The images differ in size (${ia.width}×${ia.height} vs ${ib.width}×${ib.height}); no difference map.`,
      );
    }
    return {
      a,
      b,
      settings: lines.map((l) => ({ setting: l.label, a: l.first, b: l.second, same: l.same })),
      differentSettings: lines.filter((l) => !l.same).length,
      pixels,
      diff,
    };
  },
  print(result, io: CliIo) {
    const r = result as CompareResult;
    const rows = r.settings.filter((s) => !s.same).map((s) => `  ${s.setting}: ${s.a}  →  ${s.b}`);
    const px = r.pixels
      ? `PSNR ${r.pixels.psnr.toFixed(2)} dB, mean |Δ| ${r.pixels.meanAbsDiff.toFixed(2)}, max ${r.pixels.maxAbsDiff}, ` +
        `${(100 * r.pixels.changedShare).toFixed(1)} % of pixels changed`
      : 'different sizes: no pixel comparison';
    io.stdout(
      [`#${r.a} vs #${r.b}: ${r.differentSettings} settings differ`, ...rows, px, ...(r.diff ? [r.diff] : [])].join(
        '\n',
      ) + '\n',
    );
  },
};
