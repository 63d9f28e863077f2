/**
 * Which `dlc` starts the language server, and every message the extension
 * shows. Plain Node (no 'vscode' import), so the tests call it directly.
 *
 * The order a TypeScript user expects from their editor: the `dlc.path`
 * setting; else the workspace's own install (node_modules/.bin/dlc), so the
 * server is the compiler version the project builds with; else `dlc` on the
 * PATH (a global install). In an untrusted workspace, only the PATH.
 */
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter as hostDelimiter, isAbsolute, join, resolve } from 'node:path';

/** The arguments that make `dlc` a language server speaking LSP over stdin and stdout. */
export const SERVER_ARGS = ['lsp', '--stdio'];

export const MESSAGES = {
  /** `folders`: the workspace folders searched (none in an untrusted workspace). */
  notFound: (folders: readonly string[]) =>
    `dlc: cannot start the language server: no dlc command found (looked for ${folders.length > 0 ? `${folders.map((f) => join(f, 'node_modules', '.bin', 'dlc')).join(', ')} and ` : ''}dlc on the PATH). Install dlc in the workspace or globally, or set dlc.path to the command.`,
  /** `path`: where a path setting led (relative ones start at the first workspace folder); none for a command name looked up on the PATH. */
  badSetting: (setting: string, path?: string) =>
    `dlc: cannot start the language server: the setting dlc.path is '${setting}', but ${
      path === undefined ? `no executable '${setting}' is on the PATH` : `${path === setting ? 'it' : `'${path}'`} is not an executable file`
    }.`,
  /** `reason`: the server's last lines on stderr, else the client's error. */
  failed: (command: string, reason: string) => `dlc: the language server '${command} ${SERVER_ARGS.join(' ')}' did not start: ${reason}`,
  openSettings: 'Open Settings',
} as const;

export interface ServerSearch {
  /** The `dlc.path` setting; empty when unset. */
  setting: string;
  /** The workspace folders' paths, first folder first. */
  folders: readonly string[];
  /**
   * Whether the user trusts the workspace. An untrusted one's own
   * node_modules/.bin/dlc is not run (it is the workspace's code), and VS Code
   * withholds its `dlc.path` (package.json: restrictedConfigurations).
   */
  trusted: boolean;
  /** PATH, and PATHEXT on Windows. */
  env: { PATH?: string; Path?: string; PATHEXT?: string };
  platform: NodeJS.Platform;
  /** Whether `path` is a file this user may run (injectable for tests of other platforms). */
  isExecutable?: (path: string) => boolean;
}

export type ServerCommand = {
  command: string;
  args: string[];
  /** Windows runs a .cmd or .bat (npm's shims) only through a shell. */
  shell: boolean;
  from: 'setting' | 'workspace' | 'PATH';
};

export function findServer(search: ServerSearch): ServerCommand | { problem: string } {
  const windows = search.platform === 'win32';
  const isExecutable = search.isExecutable ?? ((path: string) => executable(path, windows));
  // Windows looks a bare name up with each PATHEXT extension; npm installs dlc.cmd there.
  const extensions = windows ? ['', ...(search.env.PATHEXT ?? '.COM;.EXE;.BAT;.CMD').split(';').filter(Boolean)] : [''];
  const withExtensions = (path: string) => extensions.map((e) => path + e).find(isExecutable);
  const onPath = (name: string) => {
    const dirs = (search.env.PATH ?? search.env.Path ?? '').split(windows ? ';' : hostDelimiter).filter(Boolean);
    for (const dir of dirs) {
      const found = withExtensions(join(dir, name));
      if (found) return found;
    }
    return undefined;
  };
  const command = (path: string, from: ServerCommand['from']): ServerCommand => {
    const shell = windows && /\.(cmd|bat)$/i.test(path);
    return { command: shell ? `"${path}"` : path, args: [...SERVER_ARGS], shell, from };
  };

  const setting = search.setting.trim();
  if (setting !== '') {
    // A path (absolute, or relative to the first workspace folder), or a command name looked up on the PATH.
    if (isAbsolute(setting) || /[\\/]/.test(setting)) {
      const path = resolve(search.folders[0] ?? '', setting);
      const found = withExtensions(path);
      return found ? command(found, 'setting') : { problem: MESSAGES.badSetting(setting, path) };
    }
    const found = onPath(setting);
    return found ? command(found, 'setting') : { problem: MESSAGES.badSetting(setting) };
  }
  for (const folder of search.trusted ? search.folders : []) {
    const found = withExtensions(join(folder, 'node_modules', '.bin', 'dlc'));
    if (found) return command(found, 'workspace');
  }
  const found = onPath('dlc');
  return found ? command(found, 'PATH') : { problem: MESSAGES.notFound(search.trusted ? search.folders : []) };
}

function executable(path: string, windows: boolean): boolean {
  try {
    if (!statSync(path).isFile()) return false;
    if (!windows) accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
