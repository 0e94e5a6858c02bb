// Human progress on stderr: one line per lifecycle step with its duration, and for long work (baselines
// over thousands of objects, reindexing, batched backfills) a bar with percentage and ETA on a terminal,
// or a plain line at most every few seconds otherwise. Never on stdout (--json keeps it clean) and never a
// connection value: the lifecycle only ever hands it step names and counts.
import type { ProgressAmount } from '@kfm/migration-contracts';

export interface Reporter {
  step<T>(name: string, work: () => Promise<T>): Promise<T>;
  info(message: string, amount?: ProgressAmount): void;
  timings(): Record<string, number>;
}

export interface ReporterOptions {
  /** Where lines go (default stderr). */
  write?: (line: string) => void;
  clock?: () => number;
  /** Draw a live bar (default: stderr is a terminal). */
  tty?: boolean;
  /** Width of the bar in characters. */
  width?: number;
  /** Least time between two plain progress lines of the same operation (non-terminal). */
  throttleMs?: number;
}

/** `[#####-----] 50% 1,000/2,000 rows, ETA 12s`. */
export function renderBar(amount: ProgressAmount, elapsedMs: number, width = 24): string {
  const unit = amount.unit ? ` ${amount.unit}` : '';
  if (!amount.total || amount.total <= 0) return `${amount.done.toLocaleString('en-US')}${unit}`;
  const ratio = Math.min(1, Math.max(0, amount.done / amount.total));
  const filled = Math.round(ratio * width);
  const eta = ratio > 0 && ratio < 1 ? `, ETA ${formatDuration((elapsedMs / ratio) * (1 - ratio))}` : '';
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${Math.floor(ratio * 100)}% ${amount.done.toLocaleString('en-US')}/${amount.total.toLocaleString('en-US')}${unit}${eta}`;
}

function formatDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  return s < 60
    ? `${s}s`
    : s < 3600
      ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`
      : `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

export function createReporter(options: ReporterOptions = {}): Reporter {
  const tty = options.tty ?? Boolean(process.stderr.isTTY);
  const write = options.write ?? ((line: string) => process.stderr.write(line + '\n'));
  const clock = options.clock ?? (() => performance.now());
  const throttle = options.throttleMs ?? 5_000;
  const spent: Record<string, number> = {};
  // One live operation at a time: its message (without counts), start, last plain line and whether a bar is drawn.
  let live: { key: string; started: number; lastLine: number; drawn: boolean } | undefined;
  const endBar = () => {
    if (live?.drawn && tty) process.stderr.write('\n');
    live = undefined;
  };
  return {
    async step(name, work) {
      endBar();
      const start = clock();
      write(`[kfm] ${name} …`);
      try {
        const result = await work();
        endBar();
        const ms = Math.round(clock() - start);
        spent[name] = (spent[name] ?? 0) + ms;
        write(`[kfm] ${name} done in ${ms} ms`);
        return result;
      } catch (error) {
        endBar();
        spent[name] = (spent[name] ?? 0) + Math.round(clock() - start);
        write(`[kfm] ${name} failed after ${Math.round(clock() - start)} ms`);
        throw error;
      }
    },
    info(message, amount) {
      if (!amount) {
        endBar();
        write(`[kfm]   ${message}`);
        return;
      }
      const now = clock();
      if (!live || live.key !== message) {
        endBar();
        live = { key: message, started: now, lastLine: -Infinity, drawn: false };
      }
      const line = `[kfm]   ${message} ${renderBar(amount, now - live.started, options.width)}`;
      const finished = amount.total !== undefined && amount.done >= amount.total;
      if (tty) {
        process.stderr.write(`\r\x1b[2K${line}`);
        live.drawn = true;
        if (finished) endBar();
      } else if (finished || now - live.lastLine >= throttle) {
        write(line);
        live.lastLine = now;
        if (finished) live = undefined;
      }
    },
    timings() {
      return { ...spent };
    },
  };
}

export const silentReporter = (): Reporter => createReporter({ write: () => {}, tty: false });
