/**
 * Coded runtime errors. Every failure the user can cause (a malformed dataset, a corrupt image, a killed
 * run, a missing file) is an `NnucError` with a stable code from `RUNTIME_ERRORS`, the file it concerns and
 * a hint saying how to fix it. The CLI prints these as `file: error NNU4001: message` without a stack trace.
 *
 * Code ranges (the language's own diagnostics, NNU1xxx-3xxx, live in grammar/diagnostics.ts):
 *   NNU4xxx  datasets, image I/O, fingerprint
 *   NNU5xxx  preprocessing and the preprocessed store
 *   NNU6xxx  networks, backends and training
 *   NNU7xxx  inference, evaluation, selection, post-processing
 *   NNU8xxx  scale-out (jobs)
 *   NNU9xxx  CLI usage and plans on disk
 */
export interface RuntimeErrorDef {
  readonly title: string;
  readonly hint: string;
}

/** The catalog. Add new codes here, never reuse or renumber an old one. */
export const RUNTIME_ERRORS = {
  NNU4001: { title: 'file not found', hint: 'check the path' },
  NNU4002: { title: 'image could not be read', hint: 'the file is corrupt, truncated or not in a supported format (.nii, .nii.gz, .nrrd, .mha)' },
  NNU4003: { title: 'unsupported image format', hint: 'convert the image to NIfTI (.nii.gz), NRRD or MHA' },
  NNU4004: { title: 'image could not be written', hint: 'check that the output folder exists and is writable' },
} as const satisfies Record<string, RuntimeErrorDef>;

export type RuntimeErrorCode = keyof typeof RUNTIME_ERRORS | `NNU${4 | 5 | 6 | 7 | 8 | 9}${number}`;

export class NnucError extends Error {
  readonly code: string;
  readonly file: string | undefined;
  readonly hint: string | undefined;
  constructor(code: RuntimeErrorCode, message: string, opts: { file?: string; hint?: string; cause?: unknown } = {}) {
    super(message, opts.cause !== undefined ? { cause: opts.cause } : undefined);
    this.name = 'NnucError';
    this.code = code;
    this.file = opts.file;
    const def = (RUNTIME_ERRORS as Record<string, RuntimeErrorDef>)[code];
    this.hint = opts.hint ?? def?.hint;
  }

  /** `file: error NNU4002: message` plus an indented hint line. */
  format(): string {
    const where = this.file ? `${this.file}: ` : '';
    return `${where}error ${this.code}: ${this.message}` + (this.hint ? `\n  hint: ${this.hint}` : '');
  }
}

export function isNnucError(e: unknown): e is NnucError {
  return e instanceof NnucError;
}
