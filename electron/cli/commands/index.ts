// Every `vgt` command, in the order `vgt --help` lists them. Each area adds its commands here.
import type { Command } from '../command';
import { bench } from './bench';
import { compare } from './compare';
import { doctor } from './doctor';
import { edit } from './edit';
import { evalCommand } from './eval';
import { fork } from './fork';
import { generate } from './generate';
import { history } from './history';
import { models } from './models';
import { queue } from './queue';
import { reconstruct } from './reconstruct';
import { sweep } from './sweep';

export const COMMANDS: Readonly<Record<string, Command>> = {
  doctor,
  generate,
  fork,
  edit,
  reconstruct,
  eval: evalCommand,
  bench,
  sweep,
  compare,
  models,
  history,
  queue,
};
