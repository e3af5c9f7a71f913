// Every `vgt` command, in the order `vgt --help` lists them. Each area adds its commands here.
import type { Command } from '../command';
import { doctor } from './doctor';
import { history } from './history';
import { models } from './models';

export const COMMANDS: Readonly<Record<string, Command>> = {
  doctor,
  models,
  history,
};
