import { MmcError } from '@mmc/core';

/**
 * A dataset's directory or files are missing. The message names the path and how to install the
 * data (e.g. `apt-get install dataset-fashion-mnist`); `code` is `'E_NOT_FOUND'`.
 */
export class DatasetNotFoundError extends MmcError {
  /** The missing path. */
  readonly path: string;
  /** The Debian/Ubuntu package that installs the data, if any. */
  readonly aptPackage?: string;
  constructor(message: string, path: string, aptPackage?: string) {
    super(message, 'E_NOT_FOUND');
    this.name = 'DatasetNotFoundError';
    this.path = path;
    this.aptPackage = aptPackage;
  }
}
