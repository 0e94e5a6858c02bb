// The tree's own records under `.kfm/`: the lease (lock.json, compare-and-set under a mkdir mutex, so
// LeaseLock from the kit does renewal, expiry and takeover), the append-only ledger (ledger.jsonl) and
// the store-held policy (policy.jsonl). Appends use O_APPEND; a line is written whole or not at all.
import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { LeaseRecord, LeaseStore, VersionedLease } from '@kfm/adapter-kit';
import type { LedgerEntry, LedgerRecord, LedgerState, ReceiptRecord, StorePolicy } from '@kfm/migration-contracts';
import { RESERVED_DIR } from './manifest.js';

export class FileLeaseStore implements LeaseStore {
  readonly where: string;
  private readonly file: string;
  private readonly mutex: string;

  constructor(root: string) {
    this.file = path.join(root, RESERVED_DIR, 'lock.json');
    this.mutex = path.join(root, RESERVED_DIR, 'lock.mutex');
    this.where = `${RESERVED_DIR}/lock.json`;
  }

  async read(): Promise<VersionedLease | undefined> {
    const text = await fs.readFile(this.file, 'utf8').catch(() => undefined);
    if (!text) return undefined;
    const record = JSON.parse(text) as LeaseRecord & { version: number };
    const { version, ...lease } = record;
    return { lease, version };
  }

  async create(lease: LeaseRecord): Promise<VersionedLease | undefined> {
    await fs.mkdir(path.dirname(this.file), { recursive: true });
    try {
      await fs.writeFile(this.file, JSON.stringify({ ...lease, version: 1 }), { flag: 'wx' });
      return { lease, version: 1 };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') return undefined;
      throw error;
    }
  }

  async replace(version: unknown, lease: LeaseRecord): Promise<VersionedLease | undefined> {
    return this.exclusively(async () => {
      const current = await this.read();
      if (!current || current.version !== version) return undefined;
      const next = (version as number) + 1;
      const temp = `${this.file}.${randomUUID()}`;
      await fs.writeFile(temp, JSON.stringify({ ...lease, version: next }));
      await fs.rename(temp, this.file);
      return { lease, version: next };
    });
  }

  async remove(version: unknown): Promise<boolean> {
    return this.exclusively(async () => {
      const current = await this.read();
      if (!current || current.version !== version) return false;
      await fs.rm(this.file, { force: true });
      return true;
    });
  }

  /** mkdir is atomic: whoever creates the mutex directory runs the compare-and-set. */
  private async exclusively<T>(work: () => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        await fs.mkdir(this.mutex);
        break;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 200) throw error;
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    }
    try {
      return await work();
    } finally {
      await fs.rmdir(this.mutex).catch(() => undefined);
    }
  }
}

interface LedgerLine extends LedgerRecord {
  pre_fingerprint?: string;
  resume?: Record<string, string | number>;
}

export class FileLedger {
  private readonly file: string;
  private readonly policyFile: string;

  constructor(
    root: string,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.file = path.join(root, RESERVED_DIR, 'ledger.jsonl');
    this.policyFile = path.join(root, RESERVED_DIR, 'policy.jsonl');
  }

  private async lines<T>(file: string): Promise<T[]> {
    const text = await fs.readFile(file, 'utf8').catch(() => '');
    return text
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as T);
  }

  private async append(line: Omit<LedgerLine, 'seq' | 'recorded_at'>): Promise<void> {
    await fs.mkdir(path.dirname(this.file), { recursive: true });
    const seq = (await this.lines<LedgerLine>(this.file)).length + 1;
    await fs.appendFile(this.file, `${JSON.stringify({ seq, ...line, recorded_at: this.now().toISOString() })}\n`);
  }

  record(entry: LedgerEntry): Promise<void> {
    return this.append({
      migration_id: entry.migration_id,
      run_id: entry.run_id,
      status: entry.status,
      bundle_digest: entry.bundle_digest,
      ...(entry.receipt_digest ? { receipt_digest: entry.receipt_digest } : {}),
      ...(entry.pre_fingerprint ? { pre_fingerprint: entry.pre_fingerprint } : {}),
      ...(entry.resume ? { resume: entry.resume } : {}),
    });
  }

  recordReceipt(record: ReceiptRecord): Promise<void> {
    return this.append({
      migration_id: record.migration_id,
      run_id: record.run_id,
      status: 'receipt',
      bundle_digest: record.bundle_digest,
      receipt_digest: record.receipt_digest,
    });
  }

  async state(migrationId: string): Promise<LedgerState> {
    const lines = await this.lines<LedgerLine>(this.file);
    const latest = lines
      .filter((line) => line.migration_id === migrationId && line.status !== 'receipt' && line.status !== 'policy')
      .at(-1);
    const head = lines.filter((line) => line.status === 'receipt').at(-1)?.receipt_digest;
    return {
      state: (latest?.status as LedgerState['state'] | undefined) ?? 'absent',
      ...(latest?.bundle_digest ? { bundle_digest: latest.bundle_digest } : {}),
      ...(latest?.run_id ? { run_id: latest.run_id } : {}),
      ...(latest?.pre_fingerprint ? { pre_fingerprint: latest.pre_fingerprint } : {}),
      ...(latest?.resume ? { resume: latest.resume } : {}),
      ...(head ? { last_receipt_digest: head } : {}),
    };
  }

  async history(migrationId?: string): Promise<LedgerRecord[]> {
    return (await this.lines<LedgerLine>(this.file))
      .filter((line) => !migrationId || line.migration_id === migrationId)
      .map(({ pre_fingerprint: _pre, resume: _resume, ...record }) => record);
  }

  async readPolicy(): Promise<StorePolicy | undefined> {
    return (await this.lines<StorePolicy>(this.policyFile)).at(-1);
  }

  async writePolicy(policy: StorePolicy): Promise<void> {
    await fs.mkdir(path.dirname(this.policyFile), { recursive: true });
    await fs.appendFile(this.policyFile, `${JSON.stringify({ ...policy, recorded_at: this.now().toISOString() })}\n`);
  }
}
