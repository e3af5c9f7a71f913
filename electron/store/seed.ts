// Synthetic library rows for measuring and testing the store at scale: `seedGenerations` fills a database with
// finished generations of Shapes World prompts through the same triggers as real writes. Used by the library
// benchmark (electron/bench/library.ts) and the query-plan test (test/store/plan.test.ts).
import { createHash } from 'node:crypto';
import type { Db } from './db';
import { imageFile, thumbFile } from './files';

const COLORS = ['red', 'green', 'blue', 'yellow', 'purple', 'orange'];
const SHAPES = ['circle', 'square', 'triangle'];
const RELATIONS = ['left of', 'right of', 'above', 'below'];
const NUMBERS = ['two', 'three', 'four'];
const BACKGROUNDS = ['', ' on a white background', ' on a black background'];

function article(color: string): string {
  return color === 'orange' ? 'an' : 'a';
}

/** A deterministic Shapes World prompt for row `i` (the prompt forms of native-models/vgt/shapes/SHAPES_WORLD.md). */
export function syntheticPrompt(i: number): string {
  const c1 = COLORS[i % 6] ?? 'red';
  const c2 = COLORS[(i >> 3) % 6] ?? 'blue';
  const s1 = SHAPES[(i >> 1) % 3] ?? 'circle';
  const s2 = SHAPES[(i >> 5) % 3] ?? 'square';
  const bg = BACKGROUNDS[(i >> 7) % 3] ?? '';
  switch (i % 4) {
    case 0:
      return `${article(c1)} ${c1} ${s1}${bg}`;
    case 1:
      return `${article(c1)} ${c1} ${s1} and ${article(c2)} ${c2} ${s2}${bg}`;
    case 2:
      return `${NUMBERS[(i >> 2) % 3] ?? 'two'} ${c1} ${s1}s${bg}`;
    default:
      return `${article(c1)} ${c1} ${s1} ${RELATIONS[(i >> 4) % 4] ?? 'above'} ${article(c2)} ${c2} ${s2}${bg}`;
  }
}

/**
 * Inserts `rows` finished generations (with image rows but no files), 1 in 20 favorite, ratings spread,
 * 1 in 50 tagged `keeper`. Goes through the same triggers as real writes, so the search index is real.
 */
export function seedGenerations(db: Db, rows: number, start = Date.now() - rows * 1000): void {
  const prompt = db.prepare(
    `INSERT INTO prompts (text, first_used_at, last_used_at, use_count) VALUES (?, ?, ?, 1)
     ON CONFLICT (text) DO UPDATE SET last_used_at = excluded.last_used_at, use_count = use_count + 1 RETURNING id`,
  );
  const image = db.prepare(
    'INSERT INTO images (hash, file, thumb, width, height, bytes, created_at) VALUES (?, ?, ?, 128, 128, 40000, ?)',
  );
  const generation = db.prepare(
    `INSERT INTO generations (kind, status, prompt_id, model_id, bundle_hash, provider, seed, order_seed, order_kind,
       tokens_per_step, steps, cfg, cfg_schedule, width, height, image_id, favorite, rating, created_at, finished_at)
     VALUES ('generate', 'done', ?, 'shapes-v1', NULL, 'cpu', ?, ?, 'random', ?, 30, 4.5, 'linear', 128, 128, ?, ?, ?, ?, ?)`,
  );
  const tag = db.prepare(
    "INSERT INTO tags (name, key, created_at) VALUES ('keeper', 'keeper', 0) ON CONFLICT (key) DO UPDATE SET key = key RETURNING id",
  );
  const link = db.prepare('INSERT INTO generation_tags (generation_id, tag_id) VALUES (?, ?)');
  db.transaction(() => {
    const tagId = tag.pluck().get() as number;
    for (let i = 0; i < rows; i += 1) {
      const at = start + i * 1000;
      const hash = createHash('sha256').update(`bench ${i}`).digest('hex');
      const promptId = prompt.pluck().get(syntheticPrompt(i), at, at) as number;
      const imageId = Number(image.run(hash, imageFile(hash), thumbFile(hash), at).lastInsertRowid);
      const id = Number(
        generation.run(promptId, i, i * 7, [1, 4, 16][i % 3], imageId, i % 20 === 0 ? 1 : 0, i % 6, at, at)
          .lastInsertRowid,
      );
      if (i % 50 === 0) link.run(id, tagId);
    }
  })();
}
