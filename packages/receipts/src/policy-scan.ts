// The policy-safe scan every artifact passes before it is written: secrets (secretlint's recommended
// preset), connection strings with credentials, and restricted coordinates (WKT/EWKT, GeoJSON, lat/lon
// pairs). A finding says where and which rule, never what matched: the report must not leak the secret.
import path from 'node:path';
import type { lintSource } from '@secretlint/core';
import type { Issue } from '@kfm/migration-contracts';

export interface PolicyFinding {
  file: string;
  rule: string;
  line: number;
  message: string;
}

export interface ScanResult {
  ok: boolean;
  findings: PolicyFinding[];
}

type SecretlintConfig = Parameters<typeof lintSource>[0]['options']['config'];

/**
 * secretlint and its rule preset, loaded on the first scan: commands that write or check no artifact text
 * (verify, report, status, --help) never pay for loading them.
 */
let secretlint: Promise<{ lint: typeof lintSource; config: SecretlintConfig }> | undefined;
function loadSecretlint(): Promise<{ lint: typeof lintSource; config: SecretlintConfig }> {
  secretlint ??= Promise.all([import('@secretlint/core'), import('@secretlint/secretlint-rule-preset-recommend')]).then(
    ([core, preset]) => ({
      lint: core.lintSource,
      config: {
        rules: [
          {
            id: '@secretlint/secretlint-rule-preset-recommend',
            rule: preset.creator,
            // AWS access key ids are off by default in the preset; an id in an artifact is still a leak.
            rules: [{ id: '@secretlint/secretlint-rule-aws', options: { enableIDScanRule: true } }],
          },
        ],
      },
    }),
  );
  return secretlint;
}

interface OwnRule {
  id: string;
  message: string;
  find(text: string): number[];
}

const WKT_TYPES =
  'MULTIPOINT|MULTILINESTRING|MULTIPOLYGON|MULTICURVE|MULTISURFACE|GEOMETRYCOLLECTION|POINT|LINESTRING|POLYGON|TRIANGLE|TIN|POLYHEDRALSURFACE|CIRCULARSTRING|COMPOUNDCURVE|CURVEPOLYGON';
const NUMBER = String.raw`[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?`;

/**
 * WKT needs a type name, an opening parenthesis and a coordinate pair (two numbers). Column types such as
 * `geometry(MultiPolygon,4326)` never match: there the type name is followed by a comma, not `(`.
 * Repetitions are bounded so a hostile artifact cannot make the scan quadratic.
 */
const WKT = new RegExp(
  String.raw`(?:\bSRID=\d+;\s*)?\b(?:${WKT_TYPES})\s{0,8}(?:ZM|Z|M)?\s{0,8}\([\sA-Za-z(]{0,64}${NUMBER}\s{1,8}${NUMBER}`,
  'gi',
);
const GEOJSON = new RegExp(String.raw`["']coordinates["']\s*:\s*\[[\s\[]*${NUMBER}`, 'g');
// Credentials in the authority part of any URL-like connection string; the host must follow the `@`.
// The user may be empty (`redis://:secret@host`); a password must be present.
// Bounded repetitions keep the scan linear on long tokens.
const DSN = /\b[a-z][a-z0-9+.-]{0,31}:\/\/[^\s/?#@:"'<>]{0,256}:[^\s/?#@"'<>]{1,256}@[^\s/?#@"'<>]/gi;
// libpq keyword/value connection strings (`host=… password=…`).
const KEYWORD_DSN = /\b(?:password|passwd)\s*=\s*(?:'[^'\s]+'|[^\s'"\\]+)/gi;
const PRIVATE_KEY = /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/g;
const LAT = new RegExp(String.raw`["']?\b(?:lat|latitude)\b["']?\s*[:=]\s*["']?${NUMBER}`, 'gi');
const LON = new RegExp(String.raw`["']?\b(?:lon|lng|long|longitude)\b["']?\s*[:=]\s*["']?${NUMBER}`, 'gi');
/** How close (in characters) a latitude and a longitude must be to count as one position. */
const PAIR_DISTANCE = 200;

const OWN_RULES: OwnRule[] = [
  {
    id: 'kfm/dsn-with-credentials',
    message: 'a connection string with embedded credentials (user:password@host); record the variable name instead',
    find: (text) => [...indexes(text, DSN), ...indexes(text, KEYWORD_DSN)],
  },
  {
    id: 'kfm/private-key',
    message: 'private key material',
    find: (text) => indexes(text, PRIVATE_KEY),
  },
  {
    id: 'kfm/wkt-coordinates',
    message: 'a WKT/EWKT geometry with coordinates; restricted locations must not appear in artifacts',
    find: (text) => indexes(text, WKT),
  },
  {
    id: 'kfm/geojson-coordinates',
    message: 'a GeoJSON "coordinates" array with numbers; restricted locations must not appear in artifacts',
    find: (text) => indexes(text, GEOJSON),
  },
  {
    id: 'kfm/lat-lon-pair',
    message: 'a latitude/longitude pair; restricted locations must not appear in artifacts',
    find: (text) => latLonPairs(text),
  },
];

/**
 * The verdicts on the last few large texts. A run scans the same text several times: its PRE baseline
 * when captured, then as per-run evidence, then at the reviewer-facing path (at 2,000 tables, 5 MB each
 * time, most of an apply's scanning). Keyed by the exact text and file type, so any change is scanned
 * anew; a verdict is the same for the same text and type (the rules read nothing else). Only texts past
 * MEMO_MIN_CHARS are kept, and only MEMO_ENTRIES of them, so at most a few evidence texts outlive a run.
 */
const MEMO_MIN_CHARS = 1 << 16;
const MEMO_ENTRIES = 4;
const memo = new Map<string, { extension: string; findings: Omit<PolicyFinding, 'file'>[] }>();

/** Scans one artifact's text. `name` is reported as the file and tells secretlint the file type. */
export async function scanArtifact(name: string, text: string): Promise<ScanResult> {
  const extension = path.extname(name).toLowerCase();
  const remembered = text.length >= MEMO_MIN_CHARS ? memo.get(text) : undefined;
  if (remembered && remembered.extension === extension) {
    const findings = remembered.findings.map((finding) => ({ file: name, ...finding }));
    return { ok: findings.length === 0, findings };
  }
  const result = await scanText(name, extension, text);
  if (text.length >= MEMO_MIN_CHARS) {
    memo.delete(text);
    memo.set(text, { extension, findings: result.findings.map(({ file: _file, ...finding }) => finding) });
    for (const oldest of memo.keys()) {
      if (memo.size <= MEMO_ENTRIES) break;
      memo.delete(oldest);
    }
  }
  return result;
}

async function scanText(name: string, extension: string, text: string): Promise<ScanResult> {
  // Line numbers only for a finding: most texts have none, and indexing a large one costs more than its scan.
  let starts: number[] | undefined;
  const lineAt = (index: number) => lineOf((starts ??= lineStarts(text)), index);
  const findings: PolicyFinding[] = [];
  for (const rule of OWN_RULES) {
    for (const index of rule.find(text))
      findings.push({ file: name, rule: rule.id, line: lineAt(index), message: rule.message });
  }
  const { lint, config } = await loadSecretlint();
  const linted = await lint({
    // The .p12 check of the preset reads `filePath` from disk; artifacts are text held in memory, so it is never asked to.
    source: { content: text, filePath: name, ext: extension === '.p12' ? '.txt' : extension, contentType: 'text' },
    options: { config, maskSecrets: true, noPhysicFilePath: true },
  });
  for (const message of linted.messages) {
    // secretlint's own message quotes the (masked) match; ours names only the rule and kind.
    const rule = `secretlint/${message.ruleId.replace(/^@secretlint\/secretlint-rule-/, '')}`;
    findings.push({
      file: name,
      rule,
      line: message.loc.start.line,
      message: `a secret was found (${message.messageId})`,
    });
  }
  if (name.toLowerCase().endsWith('.csv')) {
    for (const line of csvLatLonRows(text))
      findings.push({
        file: name,
        rule: 'kfm/lat-lon-pair',
        line,
        message: 'a CSV row with latitude and longitude columns; restricted locations must not appear in artifacts',
      });
  }
  const unique = dedupe(findings).sort(compareFindings);
  return { ok: unique.length === 0, findings: unique };
}

/** Scans every file; all findings across files, so one run reports everything at once. */
export async function assertPolicySafe(files: readonly { path: string; content: string }[]): Promise<ScanResult> {
  const findings: PolicyFinding[] = [];
  for (const file of files) findings.push(...(await scanArtifact(file.path, file.content)).findings);
  findings.sort(compareFindings);
  return { ok: findings.length === 0, findings };
}

/** A finding as a contracts Issue (POLICY_SCAN_HIT), for results and the CLI. */
export function policyFindingToIssue(finding: PolicyFinding): Issue {
  return {
    code: 'POLICY_SCAN_HIT',
    file: finding.file,
    line: finding.line,
    message: `${finding.rule}: ${finding.message}`,
  };
}

function indexes(text: string, pattern: RegExp): number[] {
  return [...text.matchAll(pattern)].map((match) => match.index ?? 0);
}

function latLonPairs(text: string): number[] {
  const lats = indexes(text, LAT);
  const lons = indexes(text, LON);
  // Both lists are ascending (matchAll order): a moving pointer keeps this linear on huge files.
  let j = 0;
  return lats.filter((lat) => {
    while (j < lons.length && (lons[j] as number) < lat - PAIR_DISTANCE) j++;
    return j < lons.length && (lons[j] as number) <= lat + PAIR_DISTANCE;
  });
}

/** A CSV whose header has latitude and longitude columns, and rows with numbers in both. */
function csvLatLonRows(text: string): number[] {
  const rows = text.split(/\r\n?|\n/);
  const header = (rows[0] ?? '').split(',').map((cell) => cell.trim().replace(/^"|"$/g, '').toLowerCase());
  const lat = header.findIndex((cell) => cell === 'lat' || cell === 'latitude');
  const lon = header.findIndex((cell) => ['lon', 'lng', 'long', 'longitude'].includes(cell));
  if (lat < 0 || lon < 0) return [];
  const numeric = new RegExp(`^${NUMBER}$`);
  const hits: number[] = [];
  rows.slice(1).forEach((row, i) => {
    const cells = row.split(',').map((cell) => cell.trim().replace(/^"|"$/g, ''));
    if (numeric.test(cells[lat] ?? '') && numeric.test(cells[lon] ?? '')) hits.push(i + 2);
  });
  return hits;
}

function lineStarts(text: string): number[] {
  const starts = [0];
  for (let at = text.indexOf('\n'); at >= 0; at = text.indexOf('\n', at + 1)) starts.push(at + 1);
  return starts;
}

function lineOf(starts: number[], index: number): number {
  let low = 0;
  let high = starts.length - 1;
  while (low < high) {
    const mid = (low + high + 1) >> 1;
    if ((starts[mid] as number) <= index) low = mid;
    else high = mid - 1;
  }
  return low + 1;
}

function dedupe(findings: PolicyFinding[]): PolicyFinding[] {
  const seen = new Set<string>();
  return findings.filter((finding) => {
    const key = `${finding.file}\u0000${finding.rule}\u0000${finding.line}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function compareFindings(a: PolicyFinding, b: PolicyFinding): number {
  return cmp(a.file, b.file) || a.line - b.line || cmp(a.rule, b.rule);
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
