// `vgt history list|search QUERY [--limit N]`, plus `repair` and `recover` for the library database.
import path from 'node:path';
import type { GalleryPage, GenerationRecord, RecoverReport, RepairReport } from '../../common/contract';
import { StudioError } from '../../common/errors';
import { call, type CliIo, type Command } from '../command';

const USAGE = [
  'vgt history list [--limit N]            newest first',
  '       vgt history search QUERY [--limit N]  words in the prompt, tags or boards (a trailing * is a prefix)',
  '       vgt history repair                    reconcile files and rows, check integrity, compact',
  '       vgt history recover                   move a damaged database aside and rebuild it from the images',
].join('\n');

const DEFAULT_LIMIT = 20;

export type HistoryItem = Readonly<{
  id: number;
  prompt: string;
  seed: number;
  /** Absolute path of the PNG, or null for a generation without an image. */
  file: string | null;
  createdAt: string;
  favorite: boolean;
  tags: ReadonlyArray<string>;
}>;

type Result =
  | Readonly<{ items: ReadonlyArray<HistoryItem> }>
  | Readonly<{ repair: RepairReport }>
  | Readonly<{ recover: RecoverReport }>;

function usage(message: string): StudioError {
  return new StudioError('USAGE', `${message}. Usage: ${USAGE}`);
}

function parseLimit(raw: unknown): number {
  if (raw === undefined) return DEFAULT_LIMIT;
  const limit = Number(raw);
  if (!Number.isInteger(limit) || limit < 1 || limit > 200) throw usage('--limit is a whole number from 1 to 200');
  return limit;
}

export const history: Command = {
  summary: 'List and search past generations; repair or recover the library',
  usage: USAGE,
  options: { limit: { type: 'string' } },
  async run(values, positionals, context): Promise<Result> {
    const studio = context.studio();
    const [sub, ...rest] = positionals;
    let found: GalleryPage;
    switch (sub) {
      case 'list':
        if (rest.length > 0) throw usage('`vgt history list` takes no argument');
        found = await call<GalleryPage>(studio, 'library.list', { limit: parseLimit(values.limit) });
        break;
      case 'search': {
        const text = rest.join(' ').trim();
        if (!text) throw usage('`vgt history search` needs the words to look for');
        found = await call<GalleryPage>(studio, 'library.search', { text, limit: parseLimit(values.limit) });
        break;
      }
      case 'repair':
        return { repair: await call<RepairReport>(studio, 'library.repair', {}) };
      case 'recover':
        return { recover: await call<RecoverReport>(studio, 'library.recover', { confirm: true }) };
      default:
        throw usage(sub === undefined ? 'Missing subcommand' : `Unknown subcommand ${JSON.stringify(sub)}`);
    }
    const items = await Promise.all(
      found.items.map(async (item): Promise<HistoryItem> => {
        const record = await call<GenerationRecord>(studio, 'library.get', { id: item.id });
        return {
          id: record.id,
          prompt: record.prompt,
          seed: record.seed,
          file: record.file === null ? null : path.join(studio.home, ...record.file.split('/')),
          createdAt: record.createdAt,
          favorite: record.favorite,
          tags: record.tags,
        };
      }),
    );
    return { items };
  },
  print(result, io: CliIo) {
    const r = result as Result;
    if ('repair' in r) {
      const x = r.repair;
      io.stdout(
        `integrity: ${x.integrity}; removed ${x.orphanFilesRemoved} orphan and ${x.tempFilesRemoved} temporary files; ` +
          `${x.missingImages} rows lost their image; ${x.thumbnailsRebuilt} thumbnails rebuilt; ` +
          `${x.bytesBefore} → ${x.bytesAfter} bytes\n`,
      );
      return;
    }
    if ('recover' in r) {
      const x = r.recover;
      io.stdout(
        `${x.movedTo ? `moved the damaged database to ${x.movedTo}; ` : ''}restored ${x.imagesRestored} images` +
          (x.imagesSkipped > 0 ? `, skipped ${x.imagesSkipped} without readable parameters` : '') +
          '\n',
      );
      return;
    }
    if (r.items.length === 0) {
      io.stdout('nothing found\n');
      return;
    }
    for (const item of r.items) {
      const star = item.favorite ? '★ ' : '';
      const tags = item.tags.length > 0 ? ` [${item.tags.join(', ')}]` : '';
      io.stdout(
        `${item.id}\t${item.createdAt}\tseed ${item.seed}\t${star}${item.prompt}${tags}\n\t${item.file ?? ''}\n`,
      );
    }
  },
};
