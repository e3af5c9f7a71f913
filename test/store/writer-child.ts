// A child process that writes into a library until it is killed (test/store/crash.test.ts).
// argv: HOME MODE COUNT. MODE `queue`: enqueue COUNT jobs, then run them one by one, printing `done <id>` after
// each commit. MODE `record`: record COUNT generations directly, printing `done <id>`.
import { openLibrary } from '../../electron/store/library';
import { params, png } from './helpers';

const [home, mode, countText] = process.argv.slice(2);
const count = Number(countText);
const library = await openLibrary(home!);
const say = (line: string): void => {
  process.stdout.write(`${line}\n`);
};

if (mode === 'queue') {
  for (let i = 0; i < count; i += 1) await library.enqueue(params({ prompt: `queued job ${i}`, seed: 1000 + i }));
  say('queued');
  for (;;) {
    const job = await library.nextJob();
    if (!job) break;
    const done = await library.markDone(job.id, await png(job.params.seed), { totalMs: 1 });
    say(`done ${done.id}`);
  }
} else {
  for (let i = 0; i < count; i += 1) {
    const seed = 5000 + i;
    const done = await library.recordGeneration(params({ prompt: `prompt ${seed}`, seed }), await png(seed));
    say(`done ${done.id}`);
  }
}
library.close();
say('finished');
