// Library calls: the gallery (keyset pages, search, filters), one generation's full replay record, favorites,
// ratings, tags, boards, delete, import, repair, and the persistent generation queue.
// Limits are tight on purpose: every list is bounded, every string has a maximum, names follow one rule (below).
import { z } from 'zod';
import { CfgScheduleSchema, GenerationIdSchema, PromptSchema, SeedSchema, TokenOrderSchema } from './generation';

export const RecordStatusSchema = z.enum(['queued', 'running', 'done', 'failed', 'cancelled', 'interrupted']);
export type RecordStatus = z.infer<typeof RecordStatusSchema>;

export const GenerationKindSchema = z.enum(['generate', 'edit', 'reconstruct']);
export type GenerationKind = z.infer<typeof GenerationKindSchema>;

export { GenerationIdSchema };

/** SHA-256 of an image file's bytes, lower-case hex: the name of its file in the library. */
export const ImageHashSchema = z.string().regex(/^[0-9a-f]{64}$/, 'expected a lower-case hex SHA-256');

/** Gallery cells show the start of a prompt; `library.get` has all of it. */
export const ITEM_PROMPT_MAX_CHARS = 500;

/**
 * Everything needed to replay a generation exactly. Stored in the database and, as JSON under the `vgt` key,
 * in an iTXt chunk of the PNG itself, so an image that leaves the studio can be dropped back in and replayed.
 */
export const ReplayParamsSchema = z.object({
  kind: GenerationKindSchema,
  prompt: PromptSchema,
  /** The unconditional (CFG) prompt; null means the model's own default. */
  negativePrompt: PromptSchema.nullable(),
  modelId: z.string().min(1).max(200),
  /** The bundle's content hash, so a replay can tell whether the same weights are installed. */
  bundleHash: z.string().max(200).nullable(),
  /** The execution provider (and precision, if the engine records it), e.g. `cpu` or `cuda-fp16`. */
  provider: z.string().max(64).nullable(),
  seed: SeedSchema,
  orderSeed: SeedSchema,
  order: TokenOrderSchema,
  tokensPerStep: z.number().int().min(1).max(65536),
  steps: z.number().int().min(1).max(1000),
  cfg: z.number().min(0).max(100),
  cfgSchedule: CfgScheduleSchema,
  width: z.number().int().min(1).max(8192),
  height: z.number().int().min(1).max(8192),
  /** The image an edit or reconstruction started from (it is kept while anything refers to it). */
  sourceImage: ImageHashSchema.nullable(),
  /** Kind-specific settings (an edit's mask hash, kept tokens…): small JSON, at most 16 kB serialized. */
  extra: z.record(z.string(), z.json()).nullable(),
});
export type ReplayParams = z.infer<typeof ReplayParamsSchema>;

/** Wall-clock figures the engine reports for a finished job (free-form numbers, e.g. totalMs, firstPreviewMs). */
export const TimingsSchema = z.record(z.string().max(64), z.number()).refine((t) => Object.keys(t).length <= 32, {
  message: 'at most 32 timings',
});
export type Timings = z.infer<typeof TimingsSchema>;

const IsoDate = z.iso.datetime({ offset: true });

/**
 * Tag and board names, one rule everywhere: Unicode NFC, surrounding whitespace trimmed, runs of whitespace
 * inside folded to one space; then 1 to 64 characters (code points), no control characters. Names that differ
 * only by case (Unicode lower-casing) are the same tag or board; the spelling first used is kept.
 * Empty, over-long or control-character names are refused with INVALID_PAYLOAD, never truncated.
 */
export const NAME_MAX_CHARS = 64;
export function normalizeName(raw: string): string {
  return raw.normalize('NFC').trim().replace(/\s+/gu, ' ');
}
/** A tag or board name: NFC, trimmed, inner whitespace folded; then 1 to 64 characters, no control characters. */
export const NameSchema = z
  .string()
  .max(NAME_MAX_CHARS * 4)
  .transform(normalizeName)
  .pipe(
    z
      .string()
      .min(1, 'a name needs at least one visible character')
      .refine((name) => [...name].length <= NAME_MAX_CHARS, `a name has at most ${NAME_MAX_CHARS} characters`)
      // eslint-disable-next-line no-control-regex -- refusing control characters is the point
      .refine((name) => !/[\u0000-\u001f\u007f-\u009f]/u.test(name), 'a name cannot contain control characters'),
  );

export const GalleryFiltersSchema = z
  .object({
    modelId: z.string().min(1).max(200).optional(),
    /** Inclusive ISO 8601 bounds on when the generation was added to the library. */
    createdFrom: IsoDate.optional(),
    createdTo: IsoDate.optional(),
    favorite: z.boolean().optional(),
    /** At least this many stars (1–5). */
    minRating: z.number().int().min(1).max(5).optional(),
    /** Every one of these tags (by the name rule above). */
    tags: z.array(NameSchema).max(16).optional(),
    boardId: GenerationIdSchema.optional(),
    tokensPerStep: z.array(z.number().int().min(1).max(65536)).min(1).max(16).optional(),
    kind: z.array(GenerationKindSchema).min(1).max(3).optional(),
    /** Default: only finished images (`done`). */
    status: z.array(RecordStatusSchema).min(1).max(6).optional(),
    /** true: only what is in the trash; default: only what is not. */
    trashed: z.boolean().optional(),
  })
  .strict();
export type GalleryFilters = z.infer<typeof GalleryFiltersSchema>;

/** newest/oldest: the order generations entered the library; rating: most stars first, then newest. */
export const GallerySortSchema = z.enum(['newest', 'oldest', 'rating']);
export type GallerySort = z.infer<typeof GallerySortSchema>;

export const GALLERY_PAGE_MAX = 200;
/** Deleted generations wait this long in the trash (restorable) before the library deletes them for good. */
export const TRASH_KEEP_DAYS = 30;
/** Counting stops here for searches and detailed filters (a count of every match costs as much as reading them). */
export const TOTAL_CAP = 1000;

export const ListRequestSchema = z
  .object({
    filters: GalleryFiltersSchema.optional(),
    sort: GallerySortSchema.optional(),
    /** The `nextCursor` of the previous page (opaque). */
    cursor: z.string().max(200).optional(),
    limit: z.number().int().min(1).max(GALLERY_PAGE_MAX).optional(),
  })
  .strict();
export type ListRequest = z.infer<typeof ListRequestSchema>;

export const SearchRequestSchema = ListRequestSchema.extend({
  /**
   * `plain` (default): words, all of which must occur in the prompt, a tag or a board name; a trailing `*` makes a
   * word a prefix; quotes, parentheses and operators are taken literally. `fts`: SQLite FTS5 query syntax
   * (`red OR blue`, `tags:cat`, `NEAR(a b)`), refused with SEARCH_SYNTAX when malformed.
   */
  text: z.string().min(1).max(512),
  syntax: z.enum(['plain', 'fts']).optional(),
}).strict();
export type SearchRequest = z.infer<typeof SearchRequestSchema>;

/** What a virtualized gallery cell needs. Paths are relative to the data folder (`/files/<path>` in web mode). */
export const GalleryItemSchema = z.object({
  id: GenerationIdSchema,
  kind: GenerationKindSchema,
  status: RecordStatusSchema,
  /** The first ITEM_PROMPT_MAX_CHARS characters. */
  prompt: z.string(),
  modelId: z.string(),
  seed: z.number(),
  tokensPerStep: z.number(),
  /** The image and its thumbnail (WebP, longest side 256), or null while queued/running/failed. */
  file: z.string().nullable(),
  thumb: z.string().nullable(),
  width: z.number(),
  height: z.number(),
  createdAt: z.string(),
  favorite: z.boolean(),
  rating: z.number().int().min(0).max(5),
});
export type GalleryItem = z.infer<typeof GalleryItemSchema>;

export const GalleryPageSchema = z.object({
  items: z.array(GalleryItemSchema),
  /** Pass as `cursor` for the next page; null on the last page. */
  nextCursor: z.string().nullable(),
  /** How many items match the filters (and search text) in all; a lower bound when `totalExact` is false. */
  total: z.number().int().min(0),
  /** False when there are more than TOTAL_CAP matches: then `total` is TOTAL_CAP ("1,000+"). */
  totalExact: z.boolean(),
});
export type GalleryPage = z.infer<typeof GalleryPageSchema>;

export const BoardSchema = z.object({
  id: GenerationIdSchema,
  name: z.string(),
  count: z.number().int().min(0),
  /** The newest image's thumbnail, for the board's cover. */
  cover: z.string().nullable(),
});
export type Board = z.infer<typeof BoardSchema>;

export const TagCountSchema = z.object({ name: z.string(), count: z.number().int().min(0) });

/** A prompt of the library's history (completion under the prompt box). */
export const PromptUseSchema = z.object({ text: z.string(), lastUsedAt: IsoDate, uses: z.number().int().min(0) });
export type PromptUse = z.infer<typeof PromptUseSchema>;

/** One generation in full: everything to show, replay, or trace back to its source. */
export const GenerationRecordSchema = GalleryItemSchema.extend({
  /** The whole prompt (also in params). */
  prompt: z.string(),
  params: ReplayParamsSchema,
  imageHash: ImageHashSchema.nullable(),
  /** The source image's file, when this is an edit or reconstruction. */
  sourceFile: z.string().nullable(),
  /** Generations whose source is this generation's image (edits, reconstructions). */
  derived: z.array(GenerationIdSchema),
  tags: z.array(z.string()),
  boards: z.array(z.object({ id: GenerationIdSchema, name: z.string() })),
  startedAt: z.string().nullable(),
  finishedAt: z.string().nullable(),
  timings: TimingsSchema.nullable(),
  error: z.string().nullable(),
  /** When it was moved to the trash; null while it is in the library. */
  trashedAt: z.string().nullable(),
});
export type GenerationRecord = z.infer<typeof GenerationRecordSchema>;

export const QueueItemSchema = z.object({
  id: GenerationIdSchema,
  status: RecordStatusSchema,
  /** 0-based place among queued jobs; null when not waiting. */
  position: z.number().int().min(0).nullable(),
  cancelRequested: z.boolean(),
  params: ReplayParamsSchema,
  createdAt: z.string(),
  startedAt: z.string().nullable(),
  error: z.string().nullable(),
});
export type QueueItem = z.infer<typeof QueueItemSchema>;

export const RepairReportSchema = z.object({
  integrity: z.string(),
  /** Image or thumbnail files without a row, removed. */
  orphanFilesRemoved: z.number().int(),
  /** Leftover temporary files of dead processes, removed. */
  tempFilesRemoved: z.number().int(),
  /** Rows whose image file was missing: kept (they can be replayed) but marked failed. */
  missingImages: z.number().int(),
  /** Thumbnails made again. */
  thumbnailsRebuilt: z.number().int(),
  bytesBefore: z.number().int(),
  bytesAfter: z.number().int(),
});
export type RepairReport = z.infer<typeof RepairReportSchema>;

export const RecoverReportSchema = z.object({
  /** Where the damaged database was moved (relative to the data folder). */
  movedTo: z.string().nullable(),
  /** Images found in the data folder and recorded again from their embedded replay parameters. */
  imagesRestored: z.number().int(),
  /** Image files without readable parameters (left in place, not recorded). */
  imagesSkipped: z.number().int(),
});
export type RecoverReport = z.infer<typeof RecoverReportSchema>;

const Ids = z.array(GenerationIdSchema).min(1).max(500);
const IdRequest = z.object({ id: GenerationIdSchema }).strict();
const Ok = z.object({ ok: z.literal(true) });

/** A PNG as base64 (a studio image is a few hundred kB; the JSON body limit applies). */
const PngBase64 = z
  .string()
  .min(8)
  .max(1_300_000)
  .regex(/^[A-Za-z0-9+/]+={0,2}$/, 'expected base64');

/** Where `library.export` puts the images. */
export const ExportTargetSchema = z.enum([
  /** One zip the host serves once, shortly, as a download (web mode: `capabilities.downloads`). */
  'download',
  /** One zip file where the user picks (the desktop app: `capabilities.chooseLocation`). */
  'zip',
  /** The PNGs and the manifest into a folder the user picks (the desktop app). */
  'folder',
]);
export type ExportTarget = z.infer<typeof ExportTargetSchema>;

/** A download's one-time id: 128 random bits, base64url. */
export const ExportIdSchema = z.string().regex(/^[A-Za-z0-9_-]{22}$/, 'expected an export id');

/** The file name an export's manifest has, in a zip or a folder. */
export const EXPORT_MANIFEST_NAME = 'vgt-export.json';

/** The manifest of an export: what each PNG is and everything to replay it (the PNGs carry `params` too). */
export const ExportManifestSchema = z.object({
  format: z.literal('vgt-studio-export'),
  version: z.literal(1),
  app: z.object({ name: z.string(), version: z.string() }),
  exportedAt: IsoDate,
  images: z.array(
    z.object({
      /** The PNG's name next to the manifest. */
      file: z.string(),
      id: GenerationIdSchema,
      imageHash: ImageHashSchema,
      width: z.number().int(),
      height: z.number().int(),
      createdAt: z.string(),
      favorite: z.boolean(),
      rating: z.number().int().min(0).max(5),
      tags: z.array(z.string()),
      boards: z.array(z.string()),
      params: ReplayParamsSchema,
    }),
  ),
});
export type ExportManifest = z.infer<typeof ExportManifestSchema>;

const Exported = { count: z.number().int().min(1), skipped: z.number().int().min(0), bytes: z.number().int().min(0) };

export const ExportResultSchema = z.discriminatedUnion('status', [
  /** `download`: fetch GET /files/export/<id>.zip once, before `expiresAt`. */
  z.object({
    status: z.literal('ready'),
    downloadId: ExportIdSchema,
    fileName: z.string(),
    expiresAt: IsoDate,
    ...Exported,
  }),
  /** `zip` / `folder`: written where the user chose (an absolute path on this machine). */
  z.object({ status: z.literal('saved'), path: z.string(), ...Exported }),
  /** The user closed the dialog: nothing was written. */
  z.object({ status: z.literal('cancelled') }),
]);
export type ExportResult = z.infer<typeof ExportResultSchema>;

export const libraryCalls = {
  'library.list': { request: ListRequestSchema, response: GalleryPageSchema },
  'library.search': { request: SearchRequestSchema, response: GalleryPageSchema },
  'library.get': { request: IdRequest, response: GenerationRecordSchema },
  /** Favorite and rating, for one or many generations at once. */
  'library.update': {
    request: z
      .object({ ids: Ids, favorite: z.boolean().optional(), rating: z.number().int().min(0).max(5).optional() })
      .strict(),
    response: z.object({ updated: z.number().int() }),
  },
  /**
   * Deletes for good, skipping the trash: removes the rows and, once nothing else refers to them, the image and
   * thumbnail files. The studio's Delete uses `library.trash`.
   */
  'library.delete': {
    request: z.object({ ids: Ids }).strict(),
    response: z.object({ deleted: z.number().int(), filesRemoved: z.number().int() }),
  },
  /**
   * Moves generations to the trash: they leave the gallery and search, keep their files, and can be restored until
   * the trash is emptied (`library.trash.empty`, or TRASH_KEEP_DAYS later). List it with `filters.trashed`.
   * Queued or running jobs are refused with BUSY.
   */
  'library.trash': {
    request: z.object({ ids: Ids }).strict(),
    response: z.object({ trashed: z.number().int() }),
  },
  /** Takes generations out of the trash, back where they were. */
  'library.restore': {
    request: z.object({ ids: Ids }).strict(),
    response: z.object({ restored: z.number().int() }),
  },
  /** Deletes for good what is in the trash: all of it, or only `ids` among it. */
  'library.trash.empty': {
    request: z.object({ ids: Ids.optional() }).strict(),
    response: z.object({ deleted: z.number().int(), filesRemoved: z.number().int() }),
  },
  'library.tag': {
    request: z
      .object({ ids: Ids, add: z.array(NameSchema).max(16).optional(), remove: z.array(NameSchema).max(16).optional() })
      .strict(),
    response: Ok,
  },
  'library.tags': {
    request: z
      .object({ prefix: z.string().max(256).optional(), limit: z.number().int().min(1).max(500).optional() })
      .strict(),
    response: z.object({ tags: z.array(TagCountSchema) }),
  },
  /**
   * Prompts used before, for completion: those starting with `text` first, then those containing it (ASCII letters
   * match either case), most recently used first.
   */
  'library.prompts': {
    request: z
      .object({ text: z.string().max(1024).optional(), limit: z.number().int().min(1).max(50).optional() })
      .strict(),
    response: z.object({ prompts: z.array(PromptUseSchema) }),
  },
  'library.tags.rename': { request: z.object({ from: NameSchema, to: NameSchema }).strict(), response: Ok },
  'library.tags.delete': { request: z.object({ name: NameSchema }).strict(), response: Ok },
  'library.boards': { request: z.object({}).strict(), response: z.object({ boards: z.array(BoardSchema) }) },
  'library.boards.create': { request: z.object({ name: NameSchema }).strict(), response: BoardSchema },
  'library.boards.rename': { request: z.object({ id: GenerationIdSchema, name: NameSchema }).strict(), response: Ok },
  /** Deletes the board only; its images stay in the library. */
  'library.boards.delete': { request: IdRequest, response: Ok },
  'library.boards.add': { request: z.object({ boardId: GenerationIdSchema, ids: Ids }).strict(), response: Ok },
  'library.boards.remove': { request: z.object({ boardId: GenerationIdSchema, ids: Ids }).strict(), response: Ok },
  /** A PNG that carries `vgt` replay parameters (from this studio) becomes a library item again. */
  'library.import': {
    request: z.object({ png: PngBase64 }).strict(),
    response: z.object({ id: GenerationIdSchema, existed: z.boolean() }),
  },
  /** Shows the generation's image file in the OS file manager (the desktop app only: UNSUPPORTED elsewhere). */
  'library.reveal': { request: IdRequest, response: Ok },
  /** Puts the generation's image on the system clipboard (the desktop app only; a browser page copies it itself). */
  'library.copyImage': { request: IdRequest, response: Ok },
  /**
   * Drags the generation's image file out of the window, as the page's own drag starts (the desktop app only; in a
   * browser the page's drag carries a download).
   */
  'library.startDrag': { request: IdRequest, response: Ok },
  /**
   * The images of these generations as PNGs (each carries its `vgt` parameters) plus a manifest
   * (EXPORT_MANIFEST_NAME) with every replay record; generations without an image are skipped and counted.
   */
  'library.export': {
    request: z.object({ ids: Ids, to: ExportTargetSchema }).strict(),
    response: ExportResultSchema,
  },
  /** Reconciles files and rows, checks integrity, compacts the database. */
  'library.repair': { request: z.object({}).strict(), response: RepairReportSchema },
  /**
   * The way out of DATABASE_CORRUPT: moves the damaged database aside (nothing is deleted), starts a fresh one, and
   * records again every image in the data folder from its embedded parameters.
   */
  'library.recover': { request: z.object({ confirm: z.literal(true) }).strict(), response: RecoverReportSchema },
  /** Running, queued (in order) and interrupted jobs. */
  'queue.list': { request: z.object({}).strict(), response: z.object({ items: z.array(QueueItemSchema) }) },
  /** Moves a queued job before another queued job, or to the end when `before` is null. */
  'queue.move': {
    request: z.object({ id: GenerationIdSchema, before: GenerationIdSchema.nullable() }).strict(),
    response: Ok,
  },
  /** A queued job is cancelled at once; a running one is asked to stop (the engine finishes the cancel). */
  'queue.cancel': { request: IdRequest, response: QueueItemSchema },
  /** Puts an interrupted, failed or cancelled job back at the end of the queue. */
  'queue.retry': { request: IdRequest, response: QueueItemSchema },
} as const;

export const libraryEvents = {
  /** Gallery items were added, changed or removed; `ids` is empty when many changed (reload). */
  'library.changed': z.object({
    change: z.enum(['added', 'updated', 'removed']),
    ids: z.array(GenerationIdSchema).max(500),
  }),
  /** A job changed state (or a cancel was requested). */
  'queue.changed': z.object({
    id: GenerationIdSchema,
    status: RecordStatusSchema,
    cancelRequested: z.boolean(),
  }),
} as const;
