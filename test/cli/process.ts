/** dlc as a process, and a scratch directory for its files, shared by the CLI tests. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A fresh directory under the system's temp (`prefix` names it); `dlc` runs
 * bin/dlc.js without colours (a `timeout` in ms turns a hang into `timedOut`),
 * `file` writes one file there and gives its path.
 */
export function cliSandbox(prefix: string, options: { timeout?: number; env?: Record<string, string> } = {}) {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  function dlc(...args: string[]) {
    const r = spawnSync('node', ['bin/dlc.js', ...args], { encoding: 'utf8', timeout: options.timeout, env: { ...process.env, NO_COLOR: '1', ...options.env } });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr, timedOut: r.error !== undefined };
  }
  function file(name: string, content: string | Uint8Array): string {
    const path = join(dir, name);
    writeFileSync(path, content);
    return path;
  }
  return { dir, dlc, file };
}
