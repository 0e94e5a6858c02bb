// Human progress on stderr: one line per lifecycle step with its duration. Never prints
// connection values; the lifecycle only ever hands it step names and counts.
export interface Reporter {
  step<T>(name: string, work: () => Promise<T>): Promise<T>;
  info(message: string): void;
  timings(): Record<string, number>;
}

export function createReporter(write: (line: string) => void = (line) => process.stderr.write(line + '\n'), clock: () => number = () => performance.now()): Reporter {
  const spent: Record<string, number> = {};
  return {
    async step(name, work) {
      const start = clock();
      write(`[kfm] ${name} …`);
      try {
        const result = await work();
        const ms = Math.round(clock() - start);
        spent[name] = (spent[name] ?? 0) + ms;
        write(`[kfm] ${name} done in ${ms} ms`);
        return result;
      } catch (error) {
        spent[name] = (spent[name] ?? 0) + Math.round(clock() - start);
        write(`[kfm] ${name} failed after ${Math.round(clock() - start)} ms`);
        throw error;
      }
    },
    info(message) {
      write(`[kfm]   ${message}`);
    },
    timings() {
      return { ...spent };
    },
  };
}

export const silentReporter = (): Reporter => createReporter(() => {});
