// The studio's views, in navigation order. Names are part of the UI contract (tests find them by these names).
export const VIEWS = [
  { id: 'generate', name: 'Generate', key: '1' },
  { id: 'gallery', name: 'Gallery', key: '2' },
  { id: 'inspect', name: 'Inspect', key: '3' },
  { id: 'edit', name: 'Edit', key: '4' },
  { id: 'sweep', name: 'Sweep', key: '5' },
  { id: 'models', name: 'Models', key: '6' },
  { id: 'settings', name: 'Settings', key: '7' },
] as const;

export type ViewId = (typeof VIEWS)[number]['id'];

export function viewFromHash(hash: string): ViewId {
  const id = hash.replace(/^#\/?/, '').split(/[/?]/)[0];
  return VIEWS.find((view) => view.id === id)?.id ?? 'generate';
}

/** True when a key press belongs to a text field rather than to the app's single-key shortcuts. */
export function isTypingTarget(target: EventTarget | null): boolean {
  if (!target || typeof (target as Element).closest !== 'function') return false;
  const element = target as HTMLElement;
  return element.isContentEditable || element.closest('input, textarea, select, [contenteditable="true"]') !== null;
}

/** The view a key press asks for: digits 1–7 outside text fields, no modifier (browsers keep Ctrl/Alt+digit for tabs). */
export function viewForKey(
  event: Pick<KeyboardEvent, 'key' | 'ctrlKey' | 'metaKey' | 'altKey' | 'target'>,
): ViewId | null {
  if (event.ctrlKey || event.metaKey || event.altKey || isTypingTarget(event.target)) return null;
  return VIEWS.find((view) => view.key === event.key)?.id ?? null;
}

/** A parameter of the hash route, e.g. `image` in `#/edit?image=12`. */
export function hashParam(hash: string, name: string): string | null {
  const query = hash.split('?')[1];
  return query ? new URLSearchParams(query).get(name) : null;
}

export function viewHref(id: ViewId, params: Readonly<Record<string, string>> = {}): string {
  const query = new URLSearchParams(params).toString();
  return `#/${id}${query ? `?${query}` : ''}`;
}
