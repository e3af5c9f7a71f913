// The `vgt` command line. With --json every command prints exactly one JSON object on stdout
// (progress goes to stderr) and exits non-zero with {"error": {code, message}} on failure.
import { parseArgs } from 'node:util';
import { StudioError, toErrorPayload } from '../common/errors';
import { resolveHome } from '../core/paths';
import { createStudio, type Studio } from '../core/studio';
import { APP_NAME, APP_VERSION } from '../core/version';
import type { CliIo, CommandContext } from './command';
import { COMMANDS } from './commands';

export type { CliIo } from './command';

function helpText(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((name) => name.length));
  return [
    `${APP_NAME} ${APP_VERSION} — local VGT text-to-image on your own machine`,
    '',
    'Usage: vgt <command> [options]',
    '',
    'Commands:',
    ...Object.entries(COMMANDS).map(([name, command]) => `  ${name.padEnd(width)}  ${command.summary}`),
    '',
    'Options for every command:',
    '  --json     print exactly one JSON object on stdout (errors too)',
    '  --help     show the usage of a command',
    '',
    'Environment: VGT_STUDIO_HOME (data folder), VGT_EP (execution providers, e.g. cuda,webgpu,cpu)',
  ].join('\n');
}

const defaultIo: CliIo = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  env: process.env,
};

export async function main(argv: ReadonlyArray<string>, io: CliIo = defaultIo): Promise<number> {
  const json = argv.includes('--json');
  const fail = (error: unknown): number => {
    const payload = toErrorPayload(error);
    if (json) io.stdout(JSON.stringify({ error: payload }) + '\n');
    else io.stderr(`vgt: ${payload.message}\n`);
    return payload.code === 'USAGE' ? 2 : 1;
  };

  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.stdout(helpText() + '\n');
    return 0;
  }
  if (name === '--version' || name === '-v') {
    io.stdout(json ? JSON.stringify({ name: APP_NAME, version: APP_VERSION }) + '\n' : `${APP_VERSION}\n`);
    return 0;
  }
  const command = COMMANDS[name];
  if (!command) return fail(new StudioError('USAGE', `Unknown command ${JSON.stringify(name)}; see \`vgt --help\`.`));

  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: [...rest],
      options: { ...command.options, json: { type: 'boolean' }, help: { type: 'boolean' } },
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    return fail(new StudioError('USAGE', `${(error as Error).message}. Usage: ${command.usage}`));
  }
  if (parsed.values.help) {
    io.stdout(`${command.summary}\n\nUsage: ${command.usage}\n`);
    return 0;
  }

  let studio: Studio | null = null;
  const context: CommandContext = {
    io,
    json,
    progress: (text) => io.stderr(text.endsWith('\n') ? text : `${text}\n`),
    studio: () =>
      (studio ??= createStudio({
        home: resolveHome(io.env),
        mode: 'cli',
        env: io.env,
        builtinBundles: io.builtinBundles,
      })),
  };
  try {
    const result = await command.run(parsed.values, parsed.positionals, context);
    if (json) io.stdout(JSON.stringify(result) + '\n');
    else command.print(result, io);
    return 0;
  } catch (error) {
    return fail(error);
  } finally {
    await (studio as Studio | null)?.dispose();
  }
}
