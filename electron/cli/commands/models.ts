// `vgt models list|import PATH [--link]|download URL --sha256 HEX|remove ID|default ID`.
import type { DownloadProgress, Model } from '../../common/contract';
import { StudioError } from '../../common/errors';
import { call, type CliIo, type Command, type CommandContext } from '../command';

const USAGE = [
  'vgt models list',
  '       vgt models import PATH [--link]      copy a bundle folder into the data folder (or link to it)',
  '       vgt models download URL --sha256 HEX  URL of a vgt-bundle.json (or hf:owner/repo[@rev]); HEX pins it',
  '       vgt models remove ID',
  '       vgt models default ID',
].join('\n');

export function formatSize(bytes: number): string {
  if (bytes >= 1024 ** 3) return `${(bytes / 1024 ** 3).toFixed(2)} GiB`;
  if (bytes >= 1024 ** 2) return `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
  return `${Math.ceil(bytes / 1024)} KiB`;
}

function usage(message: string): StudioError {
  return new StudioError('USAGE', `${message}. Usage: ${USAGE}`);
}

/** One argument after the subcommand, exactly. */
function single(positionals: ReadonlyArray<string>, what: string): string {
  const [sub, argument, ...extra] = positionals;
  if (argument === undefined || extra.length > 0) throw usage(`\`vgt models ${sub}\` takes one ${what}`);
  return argument;
}

/** Download progress on stderr: every phase change, and a line per second while bytes flow. */
function reportDownloads(context: CommandContext): () => void {
  let last = { phase: '', at: 0 };
  return context.studio().events.subscribe((event) => {
    if (event.type !== 'models.download') return;
    const p: DownloadProgress = event.data;
    const now = Date.now();
    if (p.phase === last.phase && now - last.at < 1000) return;
    last = { phase: p.phase, at: now };
    const amount =
      p.totalBytes !== null
        ? `${formatSize(p.receivedBytes)} / ${formatSize(p.totalBytes)}`
        : formatSize(p.receivedBytes);
    const speed = p.bytesPerSecond > 0 ? `, ${formatSize(p.bytesPerSecond)}/s` : '';
    context.progress(`${p.phase}${p.file ? ` ${p.file}` : ''}: ${amount}${speed}${p.message ? ` — ${p.message}` : ''}`);
  });
}

export const models: Command = {
  summary: 'List, import, download, remove model bundles and choose the default',
  usage: USAGE,
  options: { link: { type: 'boolean' }, sha256: { type: 'string' } },
  async run(values, positionals, context) {
    const studio = context.studio();
    const [sub] = positionals;
    switch (sub) {
      case 'list':
        if (positionals.length !== 1) throw usage('`vgt models list` takes no argument');
        return call(studio, 'models.list', {});
      case 'import':
        return call(studio, 'models.import', {
          path: single(positionals, 'folder'),
          mode: values.link ? 'link' : 'copy',
        });
      case 'download': {
        const url = single(positionals, 'URL');
        if (typeof values.sha256 !== 'string') throw usage('--sha256 HEX is required: it pins the bundle manifest');
        const stop = reportDownloads(context);
        try {
          return await call(studio, 'models.download', { url, sha256: values.sha256 });
        } finally {
          stop();
        }
      }
      case 'remove':
        return call(studio, 'models.remove', { id: single(positionals, 'model id') });
      case 'default':
        return call(studio, 'models.setDefault', { id: single(positionals, 'model id') });
      default:
        throw usage(sub === undefined ? 'Say what to do' : `Unknown subcommand ${JSON.stringify(sub)}`);
    }
  },
  print(result, io: CliIo) {
    const r = result as { models?: Array<Model>; model?: Model; removed?: string; freedBytes?: number };
    if (r.models) {
      if (r.models.length === 0) {
        io.stdout('No models installed. Import one: vgt models import PATH\n');
        return;
      }
      for (const m of r.models) {
        const tags = [m.default && 'default', m.builtin && 'built-in', m.linked && 'linked'].filter(Boolean).join(', ');
        io.stdout(
          `${m.default ? '*' : ' '} ${m.id.padEnd(24)} ${formatSize(m.sizeBytes).padStart(10)}  ${m.name}` +
            `${tags ? ` (${tags})` : ''}${m.problem ? `\n    ! ${m.problem}` : ''}\n`,
        );
      }
    } else if (r.model) {
      io.stdout(`${r.model.name} (${r.model.id})${r.model.default ? ', the default' : ''}: ${r.model.path}\n`);
    } else if (r.removed) {
      io.stdout(`Removed ${r.removed}${r.freedBytes ? `, freed ${formatSize(r.freedBytes)}` : ''}.\n`);
    }
  },
};
