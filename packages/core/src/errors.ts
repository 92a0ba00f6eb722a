/**
 * Typed errors of @mmc. Every error thrown at a public boundary is one of these, so callers can
 * branch on `instanceof` or on `code` instead of parsing messages.
 *
 * @example
 * ```ts
 * try { infoNCE(q, k, { temperature: 0 }); }
 * catch (e) { if (e instanceof ValueError) console.log(e.code, e.message); }
 * ```
 */
export class MmcError extends Error {
  /** Stable machine-readable code, e.g. `'E_SHAPE'`. */
  readonly code: string;
  constructor(message: string, code = 'E_MMC') {
    super(message);
    this.name = 'MmcError';
    this.code = code;
    Object.setPrototypeOf(this, new.target.prototype);
  }
}

/** A tensor or array has the wrong rank, shape, or size. */
export class ShapeError extends MmcError {
  constructor(message: string) {
    super(message, 'E_SHAPE');
    this.name = 'ShapeError';
  }
}

/** A scalar argument or an option is out of range, NaN, or of the wrong kind. */
export class ValueError extends MmcError {
  constructor(message: string) {
    super(message, 'E_VALUE');
    this.name = 'ValueError';
  }
}

/** A backend was requested whose npm package is not installed or could not start. */
export class BackendError extends MmcError {
  /** The npm package that provides the backend. */
  readonly packageName?: string;
  constructor(message: string, packageName?: string) {
    super(message, 'E_BACKEND');
    this.name = 'BackendError';
    this.packageName = packageName;
  }
}

/** A file or byte buffer (npy, safetensors, IDX, checkpoint) is truncated or malformed. */
export class FormatError extends MmcError {
  constructor(message: string) {
    super(message, 'E_FORMAT');
    this.name = 'FormatError';
  }
}
