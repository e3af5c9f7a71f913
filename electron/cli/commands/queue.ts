// `vgt queue list|cancel ID|move ID [--before ID]|retry ID`: the library's persistent generation queue, the one the
// app and web mode run (jobs queued there while the app is closed run when it next starts).
import type { QueueItem } from '../../common/contract';
import { StudioError } from '../../common/errors';
import { call, type CliIo, type Command } from '../command';

const USAGE = [
  'vgt queue list                       running, queued (in order) and interrupted jobs',
  '       vgt queue cancel ID                  cancel a queued job (a running one is asked to stop)',
  '       vgt queue move ID [--before ID2]     move a queued job before another queued job, or to the end',
  '       vgt queue retry ID                   put a failed, cancelled or interrupted job back at the end',
].join('\n');

type Result =
  | Readonly<{ items: ReadonlyArray<QueueItem> }>
  | Readonly<{ item: QueueItem }>
  | Readonly<{ moved: number; before: number | null }>;

function idOf(raw: unknown, what: string): number {
  const id = Number(raw);
  if (raw === undefined || !Number.isSafeInteger(id) || id < 1) {
    throw new StudioError('USAGE', `${what} needs a job id. Usage: ${USAGE}`);
  }
  return id;
}

export const queue: Command = {
  summary: 'List, cancel, reorder or retry the jobs of the persistent queue',
  usage: USAGE,
  options: { before: { type: 'string' } },
  async run(values, positionals, context): Promise<Result> {
    const [sub, raw] = positionals;
    const studio = context.studio();
    switch (sub) {
      case 'list':
      case undefined:
        return call(studio, 'queue.list', {});
      case 'cancel':
        return { item: await call<QueueItem>(studio, 'queue.cancel', { id: idOf(raw, 'cancel') }) };
      case 'retry':
        return { item: await call<QueueItem>(studio, 'queue.retry', { id: idOf(raw, 'retry') }) };
      case 'move': {
        const id = idOf(raw, 'move');
        const before = values.before === undefined ? null : idOf(values.before, '--before');
        await call(studio, 'queue.move', { id, before });
        return { moved: id, before };
      }
      default:
        throw new StudioError('USAGE', `Unknown queue command ${JSON.stringify(sub)}. Usage: ${USAGE}`);
    }
  },
  print(result, io: CliIo) {
    const r = result as Result;
    const line = (i: QueueItem): string =>
      `#${i.id}  ${i.status}${i.position !== null ? ` (position ${i.position + 1})` : ''}${
        i.cancelRequested ? ', cancel requested' : ''
      }  ${i.params.prompt.slice(0, 60)}`;
    if ('items' in r) io.stdout((r.items.length ? r.items.map(line).join('\n') : 'The queue is empty.') + '\n');
    else if ('item' in r) io.stdout(line(r.item) + '\n');
    else io.stdout(`#${r.moved} moved ${r.before === null ? 'to the end' : `before #${r.before}`}\n`);
  },
};
