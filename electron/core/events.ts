// A tiny in-process event hub: the engine and store publish typed events, transports (IPC, SSE) forward them.
import type { StudioEvent } from '../common/contract';

export type Listener = (event: StudioEvent) => void;

export class EventHub {
  #listeners = new Set<Listener>();

  emit(event: StudioEvent): void {
    for (const listener of this.#listeners) {
      try {
        listener(event);
      } catch {
        // A failing subscriber (a closed socket, say) must not stop the others from hearing the event.
      }
    }
  }

  subscribe(listener: Listener): () => void {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  get size(): number {
    return this.#listeners.size;
  }
}
