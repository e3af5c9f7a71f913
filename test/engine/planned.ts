// Engine jobs for the engine's own tests, planned as the host plans them (core/job-planner.ts, engine/plan.ts): the
// tests keep writing a job as its request (prompt, sampling, an edit's image bytes, a fork).
import { loadBundleInfo, type BundleInfo } from '../../electron/core/job-planner';
import type { EditContext, Sampling } from '../../electron/common/contract';
import type { EngineJob } from '../../electron/engine/engine';
import type { ForkSpec } from '../../electron/engine/fork';
import { planJob } from '../../electron/engine/plan';
import { loadModelImage } from '../../electron/platform/image';

export type JobFields = Omit<EngineJob, 'plan'> &
  Readonly<{
    prompt: string;
    negativePrompt?: string | null;
    sampling: Sampling;
    /** An edit: the image (any size; resized as the host does), per grid cell 1 where regenerated, its context. */
    edit?: Readonly<{ image: Uint8Array; regenerate: Uint8Array; context?: EditContext }>;
    fork?: ForkSpec;
  }>;

const bundles = new Map<string, Promise<BundleInfo>>();

export async function planned(fields: JobFields): Promise<EngineJob> {
  const { prompt, negativePrompt, sampling, edit, fork, ...job } = fields;
  let bundle = bundles.get(job.bundleDir);
  if (!bundle) bundles.set(job.bundleDir, (bundle = loadBundleInfo(job.bundleDir)));
  const { manifest, prompts } = await bundle;
  const source = edit ? await loadModelImage(edit.image, manifest.image.size) : null;
  const plan = planJob(manifest, prompts, {
    prompt,
    negativePrompt,
    sampling,
    orderSeeds: job.orderSeeds,
    ...(edit && source
      ? { edit: { source, regenerate: edit.regenerate, ...(edit.context ? { context: edit.context } : {}) } }
      : {}),
    ...(fork ? { fork } : {}),
  });
  return { ...job, plan };
}
