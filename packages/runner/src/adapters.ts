// The adapter registry: the runner finds a store adapter by the declaration's `type`, so a
// third-party package can add stores by registering its own StoreAdapter. A type may also be
// registered with a loader (a dynamic import): its module — drivers, parsers — loads only when a
// command meets that type, so a command that never touches a store type never pays for loading it.
import type { StoreAdapter } from '@kfm/migration-contracts';

/** Loads a store type's adapter on first use (typically `async () => (await import('pkg')).adapter`). */
export type AdapterLoader = () => Promise<StoreAdapter>;

const adapters = new Map<string, StoreAdapter>();
const loaders = new Map<string, AdapterLoader>();
const loading = new Map<string, Promise<StoreAdapter>>();

/** Registers a loaded adapter; it replaces whatever was registered for its type before. */
export function registerAdapter(adapter: StoreAdapter): void {
  loaders.delete(adapter.type);
  loading.delete(adapter.type);
  adapters.set(adapter.type, adapter);
}

/** Registers a store type whose adapter loads on first use ({@link loadAdapter}); replaces an earlier registration. */
export function registerAdapterLoader(type: string, load: AdapterLoader): void {
  adapters.delete(type);
  loading.delete(type);
  loaders.set(type, load);
}

/** The adapter registered for `type` if it is loaded already (a lazily registered type: after {@link loadAdapter}). */
export function adapterFor(type: string): StoreAdapter | undefined {
  return adapters.get(type);
}

/** The adapter for `type`, loading it first if it was registered with a loader; undefined for an unknown type. */
export async function loadAdapter(type: string): Promise<StoreAdapter | undefined> {
  const ready = adapters.get(type);
  if (ready) return ready;
  const load = loaders.get(type);
  if (!load) return undefined;
  let pending = loading.get(type);
  if (!pending) {
    pending = load();
    loading.set(type, pending);
  }
  try {
    const adapter = await pending;
    // A registration made while the module loaded wins over the loader it replaced.
    if (loaders.get(type) === load) {
      loaders.delete(type);
      adapters.set(type, adapter);
    }
    return adapters.get(type) ?? (await loadAdapter(type));
  } finally {
    if (loading.get(type) === pending) loading.delete(type);
  }
}

/** Every registered store type, loaded or not, sorted. */
export function registeredTypes(): string[] {
  return [...new Set([...adapters.keys(), ...loaders.keys()])].sort();
}
