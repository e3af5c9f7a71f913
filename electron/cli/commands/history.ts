// `vgt history list|search QUERY [--limit N]`, `delete|restore ID…` and `empty-trash` (the trash), plus `repair`
// and `recover` for the library database.
import path from 'node:path';
import type { GalleryPage, GenerationRecord, RecoverReport, RepairReport } from '../../common/contract';
import { GALLERY_PAGE_MAX, TRASH_KEEP_DAYS } from '../../common/api/library';
import { StudioError } from '../../common/errors';
import { call, type CliIo, type Command } from '../command';

const USAGE = [
  'vgt history list [--limit N] [--trash]  newest first (--trash: what is in the trash)',
  '       vgt history search QUERY [--limit N]  words in the prompt, tags or boards (a trailing * is a prefix)',
  `       vgt history delete ID...              move to the trash (restorable for ${TRASH_KEEP_DAYS} days)`,
  '       vgt history restore ID...             take out of the trash',
  '       vgt history empty-trash               delete what is in the trash for good',
  '       vgt history repair                    reconcile files and rows, check integrity, compact',
  '       vgt history recover                   move a damaged database aside and rebuild it from the images',
].join('\n');

const DEFAULT_LIMIT = 20;
/** Enough for any library this studio is sized for; pages of GALLERY_PAGE_MAX are fetched until it is reached. */
const MAX_LIMIT = 100_000;

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
  | Readonly<{ trashed: number }>
  | Readonly<{ restored: number }>
  | Readonly<{ deleted: number; filesRemoved: number }>
  | Readonly<{ repair: RepairReport }>
  | Readonly<{ recover: RecoverReport }>;

function usage(message: string): StudioError {
  return new StudioError('USAGE', `${message}. Usage: ${USAGE}`);
}

function parseLimit(raw: unknown): number {
  if (raw === undefined) return DEFAULT_LIMIT;
  const limit = Number(raw);
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) {
    throw usage(`--limit is a whole number from 1 to ${MAX_LIMIT}`);
  }
  return limit;
}

function parseIds(rest: ReadonlyArray<string>, sub: string): Array<number> {
  if (rest.length === 0) throw usage(`\`vgt history ${sub}\` needs the ids of the generations`);
  if (rest.length > 500) throw usage(`\`vgt history ${sub}\` takes at most 500 ids at a time`);
  return rest.map((raw) => {
    const id = Number(raw);
    if (!Number.isSafeInteger(id) || id < 1) throw usage(`${JSON.stringify(raw)} is not a generation id`);
    return id;
  });
}

/** Up to `limit` items, a page of at most GALLERY_PAGE_MAX at a time, each page continuing from the last. */
async function pages(
  fetchPage: (limit: number, cursor: string | undefined) => Promise<GalleryPage>,
  limit: number,
): Promise<Array<GalleryPage['items'][number]>> {
  const items: Array<GalleryPage['items'][number]> = [];
  let cursor: string | undefined;
  while (items.length < limit) {
    const page = await fetchPage(Math.min(GALLERY_PAGE_MAX, limit - items.length), cursor);
    items.push(...page.items);
    if (page.nextCursor === null) break;
    cursor = page.nextCursor;
  }
  return items;
}

export const history: Command = {
  summary: 'List and search past generations; repair or recover the library',
  usage: USAGE,
  options: { limit: { type: 'string' }, trash: { type: 'boolean' } },
  async run(values, positionals, context): Promise<Result> {
    const studio = context.studio();
    const [sub, ...rest] = positionals;
    const filters = values.trash === true ? { filters: { trashed: true } } : {};
    const limit = parseLimit(values.limit);
    let found: GalleryPage['items'];
    switch (sub) {
      case 'list':
        if (rest.length > 0) throw usage('`vgt history list` takes no argument');
        found = await pages(
          (n, cursor) => call<GalleryPage>(studio, 'library.list', { ...filters, limit: n, cursor }),
          limit,
        );
        break;
      case 'search': {
        const text = rest.join(' ').trim();
        if (!text) throw usage('`vgt history search` needs the words to look for');
        found = await pages(
          (n, cursor) => call<GalleryPage>(studio, 'library.search', { ...filters, text, limit: n, cursor }),
          limit,
        );
        break;
      }
      case 'delete':
        return call(studio, 'library.trash', { ids: parseIds(rest, sub) });
      case 'restore':
        return call(studio, 'library.restore', { ids: parseIds(rest, sub) });
      case 'empty-trash':
        if (rest.length > 0) throw usage('`vgt history empty-trash` takes no argument');
        return call(studio, 'library.trash.empty', {});
      case 'repair':
        return { repair: await call<RepairReport>(studio, 'library.repair', {}) };
      case 'recover':
        return { recover: await call<RecoverReport>(studio, 'library.recover', { confirm: true }) };
      default:
        throw usage(sub === undefined ? 'Missing subcommand' : `Unknown subcommand ${JSON.stringify(sub)}`);
    }
    const items = await Promise.all(
      found.map(async (item): Promise<HistoryItem> => {
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
    if ('trashed' in r) {
      io.stdout(`moved ${r.trashed} to the trash; \`vgt history restore ID…\` brings them back\n`);
      return;
    }
    if ('restored' in r) {
      io.stdout(`restored ${r.restored} from the trash\n`);
      return;
    }
    if ('deleted' in r) {
      io.stdout(`deleted ${r.deleted} for good (${r.filesRemoved} files removed)\n`);
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
