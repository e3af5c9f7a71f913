// A negative prompt, measured (issue 19, item 6): the same seeds of one prompt generated with and without a negative
// prompt (CFG's unconditional row becomes the prompt template around it: PromptEncoder.encode, through the runner's
// engine-level `direct`), each image's objects found by the ShapesEval detector, and per arm the share of images
// with at least one object of the negative shape and the share of all detected objects that are of it, each with its
// binomial standard error (the object share's treats objects as independent, which objects of one image are not
// quite, so it is a lower bound). The studio has no negative prompt: this measurement is why (docs/negative-prompt.md).
//   npx tsx electron/bench/negative-prompt.ts [--prompt "a red shape"] [--negative triangle] [--shape triangle]
//     [--n 100] [--batch 16] [--cfg F] [--cfg-schedule linear|constant] [--out DIR] [--json] [--summarise]
// Batches alternate between the arms, so an interrupted run still compares the same seeds; every image's verdict is
// appended to DIR/results.jsonl as it comes, and the PNGs are kept in DIR. --summarise only reads that file.
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { CfgSchedule } from '../common/api/generation';
import { detectShapes, type ShapesShape } from '../common/shapes/score';
import { createStudio } from '../core/studio';
import { decodePixels } from '../platform/image';

type Arm = 'plain' | 'negative';
type Verdict = Readonly<{ arm: Arm; seed: number; shapes: ReadonlyArray<string>; hit: boolean }>;

const { values } = parseArgs({
  options: {
    prompt: { type: 'string', default: 'a red shape' },
    negative: { type: 'string', default: 'triangle' },
    shape: { type: 'string', default: 'triangle' },
    n: { type: 'string', default: '100' },
    batch: { type: 'string', default: '16' },
    'first-seed': { type: 'string', default: '1' },
    out: { type: 'string', default: 'negative-prompt-bench' },
    json: { type: 'boolean', default: false },
    summarise: { type: 'boolean', default: false },
    cfg: { type: 'string' },
    'cfg-schedule': { type: 'string' },
  },
});
const n = Number(values.n);
const batch = Number(values.batch);
const firstSeed = Number(values['first-seed']);
const shape = values.shape as ShapesShape;
const out = path.resolve(values.out);
mkdirSync(out, { recursive: true });
// The default model, as `vgt generate` finds it, in a scratch data folder.
const studio = createStudio({ home: mkdtempSync(path.join(tmpdir(), 'vgt-negative-')), mode: 'cli' });
const { runner } = studio.services;
const sampling = {
  ...(values.cfg ? { cfg: Number(values.cfg) } : {}),
  ...(values['cfg-schedule'] ? { cfgSchedule: values['cfg-schedule'] as CfgSchedule } : {}),
};

/** `count` images from `seed` on (order seed = seed, as `vgt generate`), then each one's detected shapes. */
async function run(arm: Arm, seed: number, count: number): Promise<Array<Verdict>> {
  const seeds = Array.from({ length: count }, (_, i) => seed + i);
  const outcome = await runner.direct({
    prompt: values.prompt,
    negativePrompt: arm === 'negative' ? values.negative : null,
    sampling,
    seeds,
    orderSeeds: seeds,
  });
  if (outcome.status !== 'done') throw new Error('The generation was cancelled.');
  const verdicts: Array<Verdict> = [];
  for (const image of outcome.images) {
    writeFileSync(path.join(out, `${arm}-${image.seed}.png`), image.png);
    const objects = detectShapes(await decodePixels(image.png));
    const shapes = objects.map((o) => `${o.color} ${o.shape}`);
    verdicts.push({ arm, seed: image.seed, shapes, hit: objects.some((o) => o.shape === shape) });
  }
  return verdicts;
}

type Share = Readonly<{ n: number; hits: number; share: number; se: number }>;

function share(hits: number, total: number): Share {
  const p = total > 0 ? hits / total : 0;
  return { n: total, hits, share: p, se: total > 0 ? Math.sqrt((p * (1 - p)) / total) : 0 };
}

/** Per arm: images with at least one object of the shape, and objects of the shape among all detected objects. */
function summary(verdicts: ReadonlyArray<Verdict>, arm: Arm): Readonly<{ images: Share; objects: Share }> {
  const mine = verdicts.filter((v) => v.arm === arm);
  const objects = mine.flatMap((v) => v.shapes);
  return {
    images: share(mine.filter((v) => v.hit).length, mine.length),
    objects: share(objects.filter((o) => o.endsWith(` ${shape}`)).length, objects.length),
  };
}

const results = path.join(out, 'results.jsonl');
const verdicts: Array<Verdict> =
  values.summarise && existsSync(results)
    ? readFileSync(results, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as Verdict)
    : [];
for (let seed = firstSeed; !values.summarise && seed < firstSeed + n; seed += batch) {
  const count = Math.min(batch, firstSeed + n - seed);
  for (const arm of ['plain', 'negative'] as const) {
    const got = await run(arm, seed, count);
    verdicts.push(...got);
    for (const v of got) appendFileSync(results, JSON.stringify(v) + '\n');
  }
  if (!values.json) process.stderr.write(`seeds ${firstSeed}..${seed + count - 1} done\n`);
}
await studio.dispose();
const plain = summary(verdicts, 'plain');
const negative = summary(verdicts, 'negative');
// The arms are independent draws of a proportion: the SE of their difference is the root of the summed squares.
const compare = (key: 'images' | 'objects') => {
  const diff = plain[key].share - negative[key].share;
  const se = Math.sqrt(plain[key].se ** 2 + negative[key].se ** 2);
  return { diff, se, z: se > 0 ? diff / se : 0 };
};
const report = {
  prompt: values.prompt,
  negative: values.negative,
  shape,
  plain,
  negativeArm: negative,
  images: compare('images'),
  objects: compare('objects'),
};
if (values.json) process.stdout.write(JSON.stringify(report) + '\n');
else {
  const pct = (x: number): string => (100 * x).toFixed(1);
  const line = (name: string, s: Share, what: string): string =>
    `${name}: ${s.hits}/${s.n} ${what} = ${pct(s.share)} % ± ${pct(s.se)}`;
  const diff = (c: ReturnType<typeof compare>): string =>
    `  difference ${pct(c.diff)} points ± ${pct(c.se)} (${c.z.toFixed(1)} SE)`;
  process.stdout.write(
    [
      `"${values.prompt}", negative "${values.negative}", ${shape}s`,
      line('without', plain.images, `images with a ${shape}`),
      line('with   ', negative.images, `images with a ${shape}`),
      diff(report.images),
      line('without', plain.objects, `objects that are ${shape}s`),
      line('with   ', negative.objects, `objects that are ${shape}s`),
      diff(report.objects),
    ].join('\n') + '\n',
  );
}
