import { execFileSync } from 'node:child_process';

/**
 * The code a run was made with: the git commit of the working directory and whether tracked files
 * differed from it (`git status --porcelain --untracked-files=no`), or `'unknown'` outside a git
 * checkout.
 *
 * @example
 * ```ts
 * codeVersion(); // '69efb34 + uncommitted changes'
 * ```
 */
export function codeVersion(cwd = process.cwd()): string {
  const git = (...args: string[]) => execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  try {
    const commit = git('rev-parse', '--short', 'HEAD');
    return git('status', '--porcelain', '--untracked-files=no') ? `${commit} + uncommitted changes` : commit;
  } catch {
    return 'unknown';
  }
}
