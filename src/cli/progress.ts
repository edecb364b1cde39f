import cliProgress from 'cli-progress';

/** Progress on stderr: a bar on a terminal, a plain line every few seconds otherwise (CI logs). */
export interface Progress {
  update(done: number, total: number, note: string): void;
  stop(): void;
}

export function createProgress(label: string, options: { quiet: boolean }): Progress {
  if (options.quiet) return { update() {}, stop() {} };
  if (process.stderr.isTTY) {
    const bar = new cliProgress.SingleBar(
      { format: `${label} [{bar}] {value}/{total} {note}`, stream: process.stderr, hideCursor: true, clearOnComplete: true },
      cliProgress.Presets.shades_classic,
    );
    let started = false;
    return {
      update(done, total, note) {
        if (!started) {
          bar.start(total, done, { note });
          started = true;
        } else {
          bar.setTotal(total);
          bar.update(done, { note });
        }
      },
      stop() {
        if (started) bar.stop();
      },
    };
  }
  let last = 0;
  return {
    update(done, total, note) {
      const now = Date.now();
      // One line every 2 s, plus the last one, keeps CI logs readable.
      if (done === total || now - last >= 2000) {
        last = now;
        process.stderr.write(`${label}: ${done}/${total} ${note}\n`);
      }
    },
    stop() {},
  };
}
