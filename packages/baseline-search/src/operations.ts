// The operation plan of a search migration (forward.json / rollback.json): its types, and reading
// the bundle's scripts into validated operations with issues that point into the plan file.
import { parseJson, validateValue, type Issue, type ScriptFile } from '@kfm/migration-contracts';

export interface AliasAction {
  add?: {
    index: string;
    alias: string;
    filter?: Record<string, unknown>;
    routing?: string;
    index_routing?: string;
    search_routing?: string;
    is_write_index?: boolean;
    is_hidden?: boolean;
  };
  remove?: { index: string; alias: string };
}

export interface ReindexBody {
  source: { index: string; query?: Record<string, unknown>; _source?: unknown; size?: number };
  dest: { index: string; op_type?: 'index' | 'create'; pipeline?: string; version_type?: string };
  script?: { source: string; lang?: string; params?: Record<string, unknown> };
  conflicts?: 'abort' | 'proceed';
  max_docs?: number;
}

type Described = { description?: string };
export type SearchOperation = Described &
  (
    | {
        op: 'create_index';
        index: string;
        body?: { settings?: Record<string, unknown>; mappings?: Record<string, unknown> };
        /** The health the index must reach before an alias moves to it (default green). */
        wait_for_health?: 'green' | 'yellow';
        /** How long to wait for it (time units, default 60s). */
        wait_timeout?: string;
      }
    | { op: 'put_mapping'; index: string; body: Record<string, unknown> }
    | { op: 'put_settings'; index: string; body: Record<string, unknown> }
    | { op: 'reindex'; body: ReindexBody }
    | { op: 'update_aliases'; body: { actions: AliasAction[] } }
    | { op: 'put_index_template'; name: string; body: Record<string, unknown> }
    | { op: 'delete_index_template'; name: string }
    | { op: 'put_component_template'; name: string; body: Record<string, unknown> }
    | { op: 'delete_component_template'; name: string }
    | { op: 'put_pipeline'; id: string; body: Record<string, unknown> }
    | { op: 'delete_pipeline'; id: string }
    | { op: 'delete_index'; index: string }
  );

export type OperationKind = SearchOperation['op'];

/** One operation with where it came from: the plan file, its JSON pointer and line. */
export interface LocatedOperation {
  operation: SearchOperation;
  file: string;
  pointer: string;
  line?: number;
  /** Position across all plan files, from 0. */
  position: number;
}

export type PlanResult = { ok: true; operations: LocatedOperation[] } | { ok: false; issues: Issue[] };

/** Reads every plan file of the bundle (in declaration order) into located, schema-valid operations. */
export function readPlan(scripts: readonly ScriptFile[]): PlanResult {
  const operations: LocatedOperation[] = [];
  const issues: Issue[] = [];
  for (const script of scripts) {
    const parsed = parseJson(script.text, script.path);
    if (!parsed.ok) {
      issues.push(...parsed.issues);
      continue;
    }
    // The one validator of every KFM schema: same issue codes, pointers and line:column as declarations.
    const found = validateValue('search_operations.v1', parsed.document.value, parsed.document);
    if (found.length > 0) {
      issues.push(...found);
      continue;
    }
    const plan = parsed.document.value as { operations: SearchOperation[] };
    plan.operations.forEach((operation, i) => {
      const pointer = `/operations/${i}`;
      const line = parsed.document.locate(pointer)?.line;
      operations.push({
        operation,
        file: script.path,
        pointer,
        ...(line ? { line } : {}),
        position: operations.length,
      });
    });
  }
  return issues.length > 0 ? { ok: false, issues } : { ok: true, operations };
}

/** `forward.json:12 /operations/2 reindex` — where an operation is, for messages. */
export function whereOf(located: LocatedOperation): string {
  return `${located.file}${located.line ? `:${located.line}` : ''} ${located.pointer} ${located.operation.op}`;
}

/** The indices an operation names, by role. */
export function namedIndices(operation: SearchOperation): { reads: string[]; writes: string[]; aliases: string[] } {
  switch (operation.op) {
    case 'create_index':
    case 'put_mapping':
    case 'put_settings':
    case 'delete_index':
      return { reads: [], writes: [operation.index], aliases: [] };
    case 'reindex':
      return { reads: [operation.body.source.index], writes: [operation.body.dest.index], aliases: [] };
    case 'update_aliases': {
      const writes: string[] = [];
      const aliases: string[] = [];
      for (const action of operation.body.actions) {
        const target = action.add ?? action.remove;
        if (target) {
          writes.push(target.index);
          aliases.push(target.alias);
        }
      }
      return { reads: [], writes, aliases };
    }
    default:
      return { reads: [], writes: [], aliases: [] };
  }
}

/** The template or pipeline an operation names, with its scope dimension. */
export function namedObject(
  operation: SearchOperation,
):
  | { dimension: 'templates' | 'pipelines'; name: string; kind: 'index_template' | 'component_template' | 'pipeline' }
  | undefined {
  switch (operation.op) {
    case 'put_index_template':
    case 'delete_index_template':
      return { dimension: 'templates', name: operation.name, kind: 'index_template' };
    case 'put_component_template':
    case 'delete_component_template':
      return { dimension: 'templates', name: operation.name, kind: 'component_template' };
    case 'put_pipeline':
    case 'delete_pipeline':
      return { dimension: 'pipelines', name: operation.id, kind: 'pipeline' };
    default:
      return undefined;
  }
}
