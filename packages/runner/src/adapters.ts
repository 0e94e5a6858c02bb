// The adapter registry: the runner finds a store adapter by the declaration's `type`, so a
// third-party package can add stores by registering its own StoreAdapter.
import type { StoreAdapter } from '@kfm/migration-contracts';

const adapters = new Map<string, StoreAdapter>();

export function registerAdapter(adapter: StoreAdapter): void {
  adapters.set(adapter.type, adapter);
}

export function adapterFor(type: string): StoreAdapter | undefined {
  return adapters.get(type);
}

export function registeredTypes(): string[] {
  return [...adapters.keys()].sort();
}
