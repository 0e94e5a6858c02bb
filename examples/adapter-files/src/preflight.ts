// Preflight of a manifest: every path it names, checked against the declaration's forbidden patterns,
// the protected domains and the adapter's own `.kfm/` before anything is written.
import { firstMatch, sortedUnique } from '@kfm/adapter-kit';
import type {
  Check,
  MigrationDeclaration,
  PreflightOptions,
  PreflightResult,
  ScriptFile,
} from '@kfm/migration-contracts';
import { directoryOf } from './capture.js';
import { isReserved, parseManifests, pathsOf } from './manifest.js';

const RULE = 'preflight' as const;

export function preflightManifest(
  scripts: readonly ScriptFile[],
  declaration: MigrationDeclaration,
  options: PreflightOptions,
): PreflightResult {
  const parsed = parseManifests(scripts);
  if (!parsed.ok) {
    return {
      statements: [],
      checks: parsed.issues.map((issue) => ({
        name: `preflight:parse:${issue.file}:${issue.line}`,
        rule: RULE,
        status: 'fail',
        code: 'PREFLIGHT_PARSE',
        message: `${issue.file}:${issue.line} ${issue.pointer ?? ''} ${issue.message}`,
      })),
      predicted: { files: [], directories: [] },
    };
  }
  const scope = declaration.scope as Record<string, string[] | undefined>;
  const domains = (options.protected ?? declaration.protected ?? {}) as Record<string, string[] | undefined>;
  const approval = declaration.approvals.exception_ref;
  const findings: Check[] = [];
  const files: string[] = [];
  for (const located of parsed.operations) {
    const where = `${located.file}:${located.line}`;
    for (const file of pathsOf(located.operation)) {
      files.push(file);
      const names: [string, string][] = [
        ['files', file],
        ['directories', directoryOf(file)],
      ];
      if (isReserved(file))
        findings.push({
          name: `preflight:reserved:${where}`,
          rule: RULE,
          status: 'fail',
          code: 'PREFLIGHT_FORBIDDEN',
          observed: file,
          message: `${where} names ${file}: .kfm/ holds the adapter's lock, ledger and policy`,
        });
      for (const [dimension, name] of names) {
        const hit = firstMatch(scope[`forbidden_${dimension}`], [name]);
        if (hit >= 0)
          findings.push({
            name: `preflight:forbidden:${where}:${name}`,
            rule: RULE,
            status: 'fail',
            code: 'PREFLIGHT_FORBIDDEN',
            pointer: `/scope/forbidden_${dimension}/${hit}`,
            observed: name,
            message: `${where} names ${name}, which the declaration forbids (${scope[`forbidden_${dimension}`]![hit]})`,
          });
        if (firstMatch(domains[dimension], [name]) >= 0) {
          findings.push(
            approval
              ? {
                  name: `preflight:protected:${where}:${name}`,
                  rule: 'protected',
                  status: 'pass',
                  observed: name,
                  message: `${where} names protected ${name}; approved by ${approval}`,
                }
              : {
                  name: `preflight:protected:${where}:${name}`,
                  rule: 'protected',
                  status: 'fail',
                  code: 'PREFLIGHT_FORBIDDEN',
                  pointer: '/approvals/exception_ref',
                  observed: name,
                  message: `${where} names protected ${name} without approvals.exception_ref`,
                },
          );
        }
      }
    }
  }
  const checks: Check[] = [
    { name: 'preflight:parse', rule: RULE, status: 'pass', message: `${parsed.operations.length} operation(s) parsed` },
  ];
  if (!findings.some((check) => check.status === 'fail'))
    checks.push({
      name: 'preflight:forbidden',
      rule: RULE,
      status: 'pass',
      message: 'no forbidden, protected or reserved path',
    });
  checks.push(...findings);
  return {
    statements: parsed.operations.map((located) => ({
      index: located.index,
      file: located.file,
      line: located.line,
      kind: located.operation.op,
      objects: pathsOf(located.operation).map((file) => ({ file })),
      transactional: true,
      destructive: located.operation.op !== 'write',
      data: false,
    })),
    checks,
    predicted: { files: sortedUnique(files), directories: sortedUnique(files.map(directoryOf)) },
  };
}
