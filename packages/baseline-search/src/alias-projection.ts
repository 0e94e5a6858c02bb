// The POST baseline "as it will look after the flip": the real state after every non-alias
// operation, with the planned alias actions applied to its objects in memory. The decision is taken
// on this projection, so a violation found before the commit point never moves an alias.
import type { BaselineObject } from '@kfm/migration-contracts';
import { aliasObject, aliasObjectName } from './catalog-objects.js';
import type { AliasAction } from './operations.js';

/** Objects after the alias actions, in order (a later action sees the earlier ones, as in ES). */
export async function projectAliasActions(
  objects: readonly BaselineObject[],
  actions: readonly AliasAction[],
): Promise<BaselineObject[]> {
  const byName = new Map<string, BaselineObject>();
  const others: BaselineObject[] = [];
  for (const object of objects) {
    if (object.kind === 'alias') byName.set(object.name, object);
    else others.push(object);
  }
  for (const action of actions) {
    if (action.remove) byName.delete(aliasObjectName(action.remove.alias, action.remove.index));
    if (action.add) {
      const { index, alias, ...definition } = action.add;
      byName.set(aliasObjectName(alias, index), await aliasObject(alias, index, definition));
    }
  }
  return [...others, ...byName.values()];
}

/** Alias object names (`alias->index`) a set of actions should leave, starting from `before`. */
export function expectedAliasNames(before: Iterable<string>, actions: readonly AliasAction[]): Set<string> {
  const names = new Set(before);
  for (const action of actions) {
    if (action.remove) names.delete(aliasObjectName(action.remove.alias, action.remove.index));
    if (action.add) names.add(aliasObjectName(action.add.alias, action.add.index));
  }
  return names;
}
