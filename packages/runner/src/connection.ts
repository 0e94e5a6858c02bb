// Connection values come from environment variables whose NAMES the adapter defines and a declaration
// may override; a missing variable is an issue naming the variable, never a value.
import type { ConnectionValues, Issue, MigrationDeclaration, StoreAdapter } from '@kfm/migration-contracts';

/** The connection roles this declaration needs, mapped to the variable names that hold them. */
export function connectionVariables(adapter: StoreAdapter, declaration?: MigrationDeclaration): Record<string, string> {
  const names: Record<string, string> = { ...adapter.connection };
  for (const [role, variable] of Object.entries(declaration?.connection ?? {}))
    if (role in names && variable) names[role] = variable;
  return names;
}

export function resolveConnection(
  adapter: StoreAdapter,
  declaration: MigrationDeclaration | undefined,
  env: Readonly<Record<string, string | undefined>>,
): { ok: true; values: ConnectionValues } | { ok: false; issues: Issue[] } {
  const values: Record<string, string> = {};
  const issues: Issue[] = [];
  for (const [role, variable] of Object.entries(connectionVariables(adapter, declaration))) {
    const value = env[variable];
    if (value === undefined || value === '') {
      // Passwords may legitimately be empty on a trust-auth loopback server; other roles may not.
      if (role === 'password' && value === '') {
        values[role] = '';
        continue;
      }
      issues.push({
        code: 'ENV_MISSING',
        message: `environment variable ${variable} (${role}) is not set`,
        expected: `${variable} set in the environment`,
      });
    } else values[role] = value;
  }
  return issues.length ? { ok: false, issues } : { ok: true, values };
}
