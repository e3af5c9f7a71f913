// The shape of a `vgt` command: its options, what it does, and how a person reads its result.
import type { ParseArgsConfig } from 'node:util';
import { StudioError, toErrorPayload } from '../common/errors';
import type { Studio } from '../core/studio';

export type CliIo = Readonly<{
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  env: NodeJS.ProcessEnv;
  /** Folders of built-in bundles (default: the app's and the checkout's); tests pass [] for a machine with none. */
  builtinBundles?: ReadonlyArray<string>;
}>;

export type CommandContext = Readonly<{
  io: CliIo;
  json: boolean;
  /** The studio host, created on first use (commands such as --help never open the library). */
  studio: () => Studio;
  /** Progress for people; goes to stderr so --json output stays one object on stdout. */
  progress: (text: string) => void;
}>;

export type Command = Readonly<{
  summary: string;
  usage: string;
  options: NonNullable<ParseArgsConfig['options']>;
  run(values: Record<string, unknown>, positionals: ReadonlyArray<string>, context: CommandContext): Promise<unknown>;
  /** How a person reads the result (without --json). */
  print(result: unknown, io: CliIo): void;
}>;

/** Runs one contract call through the same dispatch as IPC and HTTP, throwing its typed error. */
export async function call<T>(studio: Studio, name: string, payload: unknown): Promise<T> {
  const result = await studio.handle(name, payload);
  if (!result.ok) throw new StudioError(toErrorPayload(result.error).code, result.error.message);
  return result.value as T;
}
