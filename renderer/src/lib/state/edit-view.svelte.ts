// The Edit view's work, held by the app so that a visit to another view does not throw it away: the source image
// (as the model sees it), the painted mask with its undo history, the prompt, whether a result belongs to it, and
// the compare mode. Edit.svelte reads and writes these instead of keeping its own.
import type { ReconstructResult } from '../../../../electron/common/api/generation';
import { CompareState } from './compare.svelte';
import { MaskEditorState } from './mask-editor.svelte';

export class EditViewState {
  readonly editor = new MaskEditorState();
  readonly compare = new CompareState();
  source = $state.raw<ReconstructResult | null>(null);
  prompt = $state('');
  submitted = $state(false);
  /** The library id of the source when it came from the library: the edit records it as its source (lineage). */
  sourceId = $state<string | null>(null);
  /** The generation id a route asked for last, so coming back to the same route does not load it (and clear the mask) again. */
  routed: string | null = null;
}
