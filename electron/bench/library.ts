// The library benchmark: 100,000 generations seeded into a temporary database, then the two queries a user
// waits on: search by a word and the first gallery page (both through the real Library API, totals included).
// `vgt bench` puts the result under "library"; `npx tsx electron/bench/library.ts [--rows N] [--json]` prints it alone.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { compactInWorker } from '../store/compact';
import { DB_FILE, openDatabase } from '../store/db';
import { openLibrary } from '../store/library';
import { seedGenerations } from '../store/seed';

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

/** Words searched in the benchmark: common (a colour, a shape), rarer (a relation, a count), and a tag. */
export const BENCH_WORDS = ['purple', 'triangle', 'above', 'three', 'keeper'];

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
