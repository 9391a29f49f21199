/**
 * Progress for long work (fingerprinting, preprocessing, training, prediction): a redrawn bar on a
 * terminal, plain lines (at most one per `plainEveryMs`) when stderr is a file or a pipe (logs, CI).
 */
export interface ProgressOptions {
  label: string;
  total: number;
  unit?: string;
  stream?: NodeJS.WriteStream;
  plainEveryMs?: number;
  quiet?: boolean;
}

export class Progress {
  private done = 0;
  private readonly start = Date.now();
  private lastPlain = 0;
  private readonly tty: boolean;
  private readonly stream: NodeJS.WriteStream;
  constructor(private readonly opts: ProgressOptions) {
    this.stream = opts.stream ?? process.stderr;
    this.tty = Boolean(this.stream.isTTY) && !process.env.CI;
  }

  tick(n = 1, note = ''): void {
    this.done += n;
    this.render(note);
  }

  private render(note: string): void {
    if (this.opts.quiet) return;
    const { label, total, unit = 'items' } = this.opts;
    const elapsed = (Date.now() - this.start) / 1000;
    const rate = elapsed > 0 ? this.done / elapsed : 0;
    const eta = rate > 0 ? (total - this.done) / rate : 0;
    const pct = total > 0 ? Math.floor((100 * this.done) / total) : 100;
    const stats = `${this.done}/${total} ${unit} ${rate.toFixed(2)}/s eta ${eta.toFixed(0)}s${note ? ' ' + note : ''}`;
    if (this.tty) {
      const width = 30;
      const filled = Math.round((width * pct) / 100);
      this.stream.write(`\r${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${pct}% ${stats}\x1b[K`);
      if (this.done >= total) this.stream.write('\n');
    } else {
      const now = Date.now();
      if (this.done >= total || now - this.lastPlain >= (this.opts.plainEveryMs ?? 2000)) {
        this.lastPlain = now;
        this.stream.write(`${label}: ${pct}% ${stats}\n`);
      }
    }
  }
}
