/**
 * The VS Code extension as it ships: `node scripts/build-vscode.js` packs the
 * .vsix (after the build; 10-30 s, most of it type-checking the client), and
 * the tests read it back as VS Code would: the manifest, the grammar, the
 * language configuration and the bundled client. The client is then run from
 * the .vsix in Node, with a stand-in 'vscode' module and a stand-in server
 * (standin.ts): it finds the server, starts it as `dlc lsp --stdio`, passes
 * the settings through the LSP handshake, and shuts it down; or says why it
 * cannot. What VS Code then shows is not tested: VS Code cannot run here
 * (test/lsp drives the real server as a client would).
 * The server search (editors/vscode/src/server.ts) is checked on real files.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findServer, MESSAGES, SERVER_ARGS } from '../../editors/vscode/src/server.js';
import { messages } from '../../src/diagnostics.js';
import { fakeServer, vscodeModule } from './standin.js';
import { readZip } from './zip.js';

const scratch = mkdtempSync(join(tmpdir(), 'dlc-vscode-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const root = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string; license: string };
const vsix = join(scratch, 'dlc.vsix');
let entries: Map<string, Buffer>;
const json = (name: string) => JSON.parse(entries.get(name)!.toString('utf8'));

beforeAll(() => {
  const build = spawnSync('node', ['scripts/build-vscode.js', '--out', vsix], { encoding: 'utf8' });
  expect(build.status, build.stdout + build.stderr).toBe(0);
  expect(build.stdout).toContain(`wrote ${vsix}`);
  entries = readZip(vsix);
}, 180_000);

describe('the .vsix', () => {
  it('holds the manifest, the bundled client, the grammar, the language configuration, README and LICENSE, and no sources', () => {
    expect([...entries.keys()].sort()).toEqual([
      '[Content_Types].xml',
      'extension.vsixmanifest',
      'extension/LICENSE.txt',
      'extension/dist/extension.js',
      'extension/language-configuration.json',
      'extension/package.json',
      'extension/readme.md',
      'extension/syntaxes/dl.tmLanguage.json',
    ]);
  });

  it("declares the dl language, its grammar and settings, at the root package's version", () => {
    const manifest = json('extension/package.json');
    expect(manifest).toMatchObject({ name: 'dlc', publisher: 'dlc', version: root.version, license: root.license, main: './dist/extension.js' });
    // vscode-languageclient 11 refuses older VS Code (its package.json engines).
    const client = JSON.parse(readFileSync('node_modules/vscode-languageclient/package.json', 'utf8'));
    expect(manifest.engines.vscode).toBe(client.engines.vscode);
    expect(manifest.activationEvents).toEqual(['onLanguage:dl']);
    expect(manifest.capabilities.untrustedWorkspaces).toMatchObject({ supported: 'limited', restrictedConfigurations: ['dlc.path'] });
    expect(manifest.contributes.languages).toEqual([{ id: 'dl', aliases: ['dlc model', 'dl'], extensions: ['.dl'], configuration: './language-configuration.json' }]);
    expect(manifest.contributes.grammars).toEqual([{ language: 'dl', scopeName: 'source.dl', path: './syntaxes/dl.tmLanguage.json' }]);
    const settings = manifest.contributes.configuration.properties;
    expect(Object.keys(settings).sort()).toEqual(['dlc.inlayHints', 'dlc.path', 'dlc.trace.server']);
    expect([settings['dlc.path'].default, settings['dlc.inlayHints'].default, settings['dlc.trace.server'].default]).toEqual(['', true, 'off']);
    const vsixManifest = entries.get('extension.vsixmanifest')!.toString('utf8');
    expect(vsixManifest).toContain(`Version="${root.version}"`);
    expect(vsixManifest).toContain('Publisher="dlc"');
  });

  it('carries the grammar the tests check, the language configuration as written, and the MIT license', () => {
    expect(json('extension/syntaxes/dl.tmLanguage.json')).toEqual(JSON.parse(readFileSync('editors/vscode/syntaxes/dl.tmLanguage.json', 'utf8')));
    const configuration = json('extension/language-configuration.json');
    expect(configuration.comments).toEqual({ lineComment: '#' });
    expect(configuration.brackets).toEqual([['{', '}'], ['[', ']'], ['(', ')']]);
    const indent = new RegExp(configuration.indentationRules.increaseIndentPattern);
    expect(['model M {', '  y = x -> conv2d(', '  input x: [', '# {', '  y = x -> relu'].map((line) => indent.test(line))).toEqual([true, true, true, false, false]);
    expect(entries.get('extension/LICENSE.txt')!.toString('utf8')).toMatch(/^MIT License/);
  });
});

describe('the build script', () => {
  it('refuses an output it cannot write, and an unknown option, before any work', () => {
    const blocker = join(scratch, 'a-file');
    writeFileSync(blocker, '');
    const run = spawnSync('node', ['scripts/build-vscode.js', '--out', join(blocker, 'dlc.vsix')], { encoding: 'utf8' });
    expect([run.status, run.stderr]).toEqual([1, `build-vscode: ${messages.writeFile(join(blocker, 'dlc.vsix'), 'not a directory').message}\n`]);
    const unknown = spawnSync('node', ['scripts/build-vscode.js', '--vsix'], { encoding: 'utf8' });
    expect(unknown.status).toBe(1);
    expect(unknown.stderr).toContain("build-vscode: Unknown option '--vsix'");
  });
});

describe('the bundled client, in Node with a stand-in vscode module', () => {
  /**
   * Activates dist/extension.js from the .vsix in a fresh Node process with
   * the stand-in 'vscode' of standin.ts, waits for the client to start (or
   * not), then deactivates it; gives what the extension asked of VS Code.
   */
  function activate(settings: Record<string, unknown>, folders: string[], env: Record<string, string>, { choice, trusted = true }: { choice?: string; trusted?: boolean } = {}) {
    const dir = mkdtempSync(join(scratch, 'activate-'));
    mkdirSync(join(dir, 'dist'));
    mkdirSync(join(dir, 'node_modules/vscode'), { recursive: true });
    writeFileSync(join(dir, 'dist/extension.js'), entries.get('extension/dist/extension.js')!);
    writeFileSync(join(dir, 'node_modules/vscode/index.js'), vscodeModule({ settings, folders, trusted, choice }));
    const driver = `const extension = require(${JSON.stringify(join(dir, 'dist/extension.js'))});
const context = { subscriptions: [] };
(async () => {
  await extension.activate(context);
  await new Promise((r) => setTimeout(r, 50)); // the error message's button
  await extension.deactivate();
  console.log(JSON.stringify({ ...globalThis.record, exports: Object.keys(extension).sort(), subscriptions: context.subscriptions.length }));
})();`;
    const run = spawnSync(process.execPath, ['-e', driver], { encoding: 'utf8', timeout: 60_000, env: { ...env, SYSTEMROOT: process.env.SYSTEMROOT ?? '' } });
    expect(run.status, run.stderr).toBe(0);
    return JSON.parse(run.stdout) as { errors: { message: string; items: string[] }[]; registered: string[]; executed: unknown[][]; exports: string[]; subscriptions: number };
  }

  it('starts the server as `dlc lsp --stdio` and passes it the settings, then shuts it down', () => {
    const folder = mkdtempSync(join(scratch, 'served-'));
    mkdirSync(join(folder, 'node_modules/.bin'), { recursive: true });
    const server = join(folder, 'node_modules/.bin/dlc');
    writeFileSync(server, fakeServer(process.execPath), { mode: 0o755 });
    const log = join(folder, 'server.log');
    const result = activate({ 'dlc.inlayHints': false }, [folder], { PATH: '', DLC_FAKE_LOG: log });
    expect(result.errors).toEqual([]);
    const received = readFileSync(log, 'utf8').trim().split('\n').map((line) => JSON.parse(line));
    expect(received[0]).toEqual({ argv: ['lsp', '--stdio'] });
    const methods = received.slice(1).map((m) => m.method);
    expect(methods.slice(0, 2)).toEqual(['initialize', 'initialized']);
    expect(methods.slice(-2)).toEqual(['shutdown', 'exit']);
    const initialize = received[1].params;
    expect(initialize.initializationOptions).toEqual({ inlayHints: false });
    // The `dlc` section, as workspace/didChangeConfiguration carries it.
    expect(received.find((m) => m.method === 'workspace/didChangeConfiguration')?.params).toEqual({ settings: { dlc: { inlayHints: false } } });
  });

  it('starts the real `dlc lsp` from dlc.path, which ends cleanly (exit 0) when the client shuts it down', () => {
    const folder = mkdtempSync(join(scratch, 'real-'));
    const log = join(folder, 'server.log');
    // A wrapper that runs this checkout's bin/dlc.js with the client's arguments and streams, and logs how it ended.
    const wrapper = join(folder, 'dlc');
    const bin = join(process.cwd(), 'bin/dlc.js');
    writeFileSync(
      wrapper,
      `#!${process.execPath}\nconst { spawnSync } = require('node:child_process');\nconst r = spawnSync(process.execPath, [${JSON.stringify(bin)}, ...process.argv.slice(2)], { stdio: 'inherit' });\nrequire('node:fs').appendFileSync(${JSON.stringify(log)}, JSON.stringify({ argv: process.argv.slice(2), status: r.status, signal: r.signal }) + '\\n');\nprocess.exit(r.status ?? 1);\n`,
      { mode: 0o755 },
    );
    const result = activate({ 'dlc.path': wrapper }, [folder], { PATH: '' });
    expect(result.errors).toEqual([]);
    expect(JSON.parse(readFileSync(log, 'utf8').trim())).toEqual({ argv: ['lsp', '--stdio'], status: 0, signal: null });
  });

  it("quotes a server's stderr when it does not start (a dlc without `lsp`)", () => {
    const folder = mkdtempSync(join(scratch, 'old-'));
    const old = join(folder, 'dlc');
    writeFileSync(old, `#!${process.execPath}\nconsole.error("error: unknown command 'lsp'");\nprocess.exit(1);\n`, { mode: 0o755 });
    const result = activate({ 'dlc.path': old }, [folder], { PATH: '' });
    expect(result.errors.at(-1)).toEqual({ message: MESSAGES.failed(old, "error: unknown command 'lsp'"), items: [MESSAGES.openSettings] });
    expect(result.errors.at(-1)!.message).toBe(`dlc: the language server '${old} lsp --stdio' did not start: error: unknown command 'lsp'`);
  });

  it('says where it looked when there is no dlc, and its button opens the setting', () => {
    const folder = mkdtempSync(join(scratch, 'workspace-'));
    const result = activate({}, [folder], { PATH: '' }, { choice: MESSAGES.openSettings });
    expect(result.exports).toEqual(['activate', 'deactivate']);
    expect(result.registered).toEqual(['dlc.restartServer']);
    expect(result.subscriptions).toBe(3);
    expect(result.errors).toEqual([{ message: MESSAGES.notFound([folder]), items: [MESSAGES.openSettings] }]);
    expect(result.errors[0]!.message).toContain(join(folder, 'node_modules', '.bin', 'dlc'));
    expect(result.executed).toEqual([['workbench.action.openSettings', 'dlc.path']]);
  });

  it("does not run an untrusted workspace's own dlc", () => {
    const folder = mkdtempSync(join(scratch, 'untrusted-'));
    mkdirSync(join(folder, 'node_modules/.bin'), { recursive: true });
    writeFileSync(join(folder, 'node_modules/.bin/dlc'), '#!/bin/sh\n', { mode: 0o755 });
    const result = activate({}, [folder], { PATH: '' }, { trusted: false });
    expect(result.errors).toEqual([{ message: MESSAGES.notFound([]), items: [MESSAGES.openSettings] }]);
    expect(result.errors[0]!.message).toContain('(looked for dlc on the PATH)');
  });

  it('names the setting when dlc.path is not an executable file', () => {
    const missing = join(scratch, 'no-such-dir', 'dlc');
    const result = activate({ 'dlc.path': missing }, [], { PATH: '' });
    expect(result.errors).toEqual([{ message: MESSAGES.badSetting(missing, missing), items: [MESSAGES.openSettings] }]);
    expect(result.errors[0]!.message).toContain(`the setting dlc.path is '${missing}'`);
    expect(result.executed).toEqual([]);
  });
});

describe('finding the server', () => {
  /** An executable file (or, `mode` 0o644, one that is not). */
  function file(path: string, mode = 0o755): string {
    mkdirSync(join(path, '..'), { recursive: true });
    writeFileSync(path, '#!/bin/sh\n');
    chmodSync(path, mode);
    return path;
  }
  const base = mkdtempSync(join(scratch, 'find-'));
  const workspace = join(base, 'project');
  const local = file(join(workspace, 'node_modules/.bin/dlc'));
  const global = file(join(base, 'global/bin/dlc'));
  const plain = file(join(base, 'plain/dlc'), 0o644);
  const linux = { platform: 'linux' as const, trusted: true, env: { PATH: [join(base, 'plain'), join(base, 'global/bin')].join(':') } };

  it('prefers the setting, then the workspace install, then the PATH, with the arguments of `dlc lsp`', () => {
    expect(SERVER_ARGS).toEqual(['lsp', '--stdio']);
    expect(findServer({ ...linux, setting: global, folders: [workspace] })).toEqual({ command: global, args: ['lsp', '--stdio'], shell: false, from: 'setting' });
    expect(findServer({ ...linux, setting: '', folders: [join(base, 'empty'), workspace] })).toEqual({ command: local, args: ['lsp', '--stdio'], shell: false, from: 'workspace' });
    // The PATH's first directory holds a dlc that is not executable: skipped.
    expect(findServer({ ...linux, setting: '', folders: [join(base, 'empty')] })).toEqual({ command: global, args: ['lsp', '--stdio'], shell: false, from: 'PATH' });
  });

  it("skips an untrusted workspace's own install", () => {
    expect(findServer({ ...linux, trusted: false, setting: '', folders: [workspace] })).toEqual({ command: global, args: ['lsp', '--stdio'], shell: false, from: 'PATH' });
  });

  it('reads a relative dlc.path from the first workspace folder, and a bare name from the PATH', () => {
    expect(findServer({ ...linux, setting: 'node_modules/.bin/dlc', folders: [workspace] })).toMatchObject({ command: local, from: 'setting' });
    expect(findServer({ ...linux, setting: 'dlc', folders: [workspace] })).toMatchObject({ command: global, from: 'setting' });
  });

  it('explains a setting that names no executable, and a search that finds nothing', () => {
    expect(findServer({ ...linux, setting: plain, folders: [] })).toEqual({ problem: MESSAGES.badSetting(plain, plain) });
    expect(findServer({ ...linux, setting: 'bin/dlc.js', folders: [workspace] })).toEqual({ problem: MESSAGES.badSetting('bin/dlc.js', join(workspace, 'bin/dlc.js')) });
    expect(MESSAGES.badSetting('bin/dlc.js', join(workspace, 'bin/dlc.js'))).toBe(
      `dlc: cannot start the language server: the setting dlc.path is 'bin/dlc.js', but '${join(workspace, 'bin/dlc.js')}' is not an executable file.`,
    );
    expect(MESSAGES.badSetting(plain, plain)).toBe(`dlc: cannot start the language server: the setting dlc.path is '${plain}', but it is not an executable file.`);
    expect(findServer({ ...linux, setting: 'dlcx', folders: [] })).toEqual({ problem: MESSAGES.badSetting('dlcx') });
    expect(MESSAGES.badSetting('dlcx')).toBe("dlc: cannot start the language server: the setting dlc.path is 'dlcx', but no executable 'dlcx' is on the PATH.");
    expect(findServer({ platform: 'linux', trusted: true, env: { PATH: '' }, setting: '', folders: [base] })).toEqual({ problem: MESSAGES.notFound([base]) });
  });

  it("runs npm's dlc.cmd shim on Windows through a shell, found with PATHEXT", () => {
    const windowsFiles = new Set(['c:\\proj\\node_modules\\.bin\\dlc.cmd', 'c:\\tools\\dlc.exe']);
    const isExecutable = (path: string) => windowsFiles.has(path.split('/').join('\\').toLowerCase()); // Windows: any case
    const windows = { platform: 'win32' as const, trusted: true, isExecutable, env: { PATH: 'C:\\tools', PATHEXT: '.COM;.EXE;.BAT;.CMD' } };
    const fromWorkspace = findServer({ ...windows, setting: '', folders: ['C:\\proj'] });
    expect(fromWorkspace).toMatchObject({ shell: true, from: 'workspace' });
    expect((fromWorkspace as { command: string }).command).toMatch(/^"C:.proj.node_modules.\.bin.dlc\.cmd"$/i);
    expect(findServer({ ...windows, setting: '', folders: [] })).toMatchObject({ shell: false, from: 'PATH' });
  });
});
