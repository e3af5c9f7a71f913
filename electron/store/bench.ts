// The library benchmark: 100,000 generations seeded into a temporary database, then the two queries a user
// waits on: search by a word and the first gallery page (both through the real Library API, totals included).
// `vgt bench` puts the result under "library"; `npx tsx electron/store/bench.ts [--rows N] [--json]` prints it alone.
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { DB_FILE, openDatabase, type Db } from './db';
import { imageFile, thumbFile } from './files';
import { openLibrary } from './library';
import { compactInWorker } from './compact';

export type LibraryBench = Readonly<{
  rows: number;
  /** Median ms of a one-word search (newest 60 matches + total), over several words and runs. */
  searchMs: number;
  /** Median ms of the first gallery page (newest 60 + total). */
  firstPageMs: number;
  /** The slowest single search and first page seen, and how long seeding took. */
  searchMaxMs: number;
  firstPageMaxMs: number;
  seedSeconds: number;
  /** A repair's integrity check, search-index rebuild and VACUUM (its worker thread), and the host's worst
   * event-loop delay meanwhile. */
  compactSeconds: number;
  compactLagMaxMs: number;
}>;

const COLORS = ['red', 'green', 'blue', 'yellow', 'purple', 'orange'];
const SHAPES = ['circle', 'square', 'triangle'];
const RELATIONS = ['left of', 'right of', 'above', 'below'];
const NUMBERS = ['two', 'three', 'four'];
const BACKGROUNDS = ['', ' on a white background', ' on a black background'];
/** Words searched in the benchmark: common (a colour, a shape), rarer (a relation, a count), and a tag. */
export const BENCH_WORDS = ['purple', 'triangle', 'above', 'three', 'keeper'];

function article(color: string): string {
  return color === 'orange' ? 'an' : 'a';
}

/** A deterministic Shapes World prompt for row `i` (the forms of shapes-world.md). */
export function benchPrompt(i: number): string {
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
      const promptId = prompt.pluck().get(benchPrompt(i), at, at) as number;
      const imageId = Number(image.run(hash, imageFile(hash), thumbFile(hash), at).lastInsertRowid);
      const id = Number(
        generation.run(promptId, i, i * 7, [1, 4, 16][i % 3], imageId, i % 20 === 0 ? 1 : 0, i % 6, at, at)
          .lastInsertRowid,
      );
      if (i % 50 === 0) link.run(id, tagId);
    }
  })();
}

function median(values: ReadonlyArray<number>): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}

/** Seeds `rows` generations in a temporary data folder, measures, and removes the folder. */
export async function benchLibrary(options: Readonly<{ rows?: number; runs?: number }> = {}): Promise<LibraryBench> {
  const rows = options.rows ?? 100_000;
  const runs = options.runs ?? 15;
  const home = mkdtempSync(path.join(tmpdir(), 'vgt-library-bench-'));
  try {
    const seeding = performance.now();
    const db = openDatabase(path.join(home, DB_FILE));
    seedGenerations(db, rows);
    db.exec('ANALYZE');
    db.close();
    const seedSeconds = (performance.now() - seeding) / 1000;

    const library = await openLibrary(home);
    try {
      const time = async (run: () => Promise<unknown>): Promise<number> => {
        const t0 = performance.now();
        await run();
        return performance.now() - t0;
      };
      const pages: Array<number> = [];
      const searches: Array<number> = [];
      for (let r = 0; r < runs; r += 1) {
        pages.push(await time(() => library.list({ limit: 60 })));
        for (const word of BENCH_WORDS) searches.push(await time(() => library.search({ text: word, limit: 60 })));
      }
      const lag = monitorEventLoopDelay({ resolution: 5 });
      lag.enable();
      const compactMs = await time(() => compactInWorker(path.join(home, DB_FILE)));
      lag.disable();
      return {
        rows,
        searchMs: round(median(searches)),
        firstPageMs: round(median(pages)),
        searchMaxMs: round(Math.max(...searches)),
        firstPageMaxMs: round(Math.max(...pages)),
        seedSeconds: round(seedSeconds),
        compactSeconds: round(compactMs / 1000),
        compactLagMaxMs: round(lag.max / 1e6),
      };
    } finally {
      library.close();
    }
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const args = process.argv.slice(2);
  const rowsAt = args.indexOf('--rows');
  const rows = rowsAt >= 0 ? Number(args[rowsAt + 1]) : undefined;
  const result = await benchLibrary({ rows });
  if (args.includes('--json')) console.log(JSON.stringify({ library: result }));
  else {
    console.log(
      `library, ${result.rows} generations (seeded in ${result.seedSeconds} s): search by word ${result.searchMs} ms ` +
        `(max ${result.searchMaxMs}), first gallery page ${result.firstPageMs} ms (max ${result.firstPageMaxMs}); ` +
        `compaction ${result.compactSeconds} s off the event loop (its worst delay meanwhile ${result.compactLagMaxMs} ms)`,
    );
  }
}
