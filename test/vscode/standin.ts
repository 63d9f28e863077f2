/**
 * What the extension's client meets when it runs outside VS Code: a stand-in
 * 'vscode' module and a stand-in language server, as source text for files.
 *
 * The 'vscode' module records what the extension asks of VS Code (error
 * messages, commands) and answers the rest of the API that vscode-languageclient
 * touches with inert, callable, constructible proxies. The server speaks just
 * enough LSP over stdio (initialize, shutdown, exit) and logs its arguments and
 * every message it receives, one JSON line each, to the file in $DLC_FAKE_LOG.
 */

export interface Scenario {
  /** `dlc.*` settings by full name, e.g. `{ 'dlc.path': '/x/dlc' }`. */
  settings: Record<string, unknown>;
  folders: string[];
  trusted: boolean;
  /** The button the user clicks on an error message, if any. */
  choice?: string;
}

export function vscodeModule({ settings, folders, trusted, choice }: Scenario): string {
  return `const record = (globalThis.record = { errors: [], registered: [], executed: [] });
const settings = ${JSON.stringify(settings)};
/** getConfiguration(section).get(key), and getConfiguration().get('dlc') for the whole section (what the client syncs). */
const lookup = (name) => name in settings ? settings[name]
  : Object.fromEntries(Object.entries(settings).filter(([k]) => k.startsWith(name + '.')).map(([k, v]) => [k.slice(name.length + 1), v]));
const configuration = (section) => ({ get: (key, fallback) => { const v = lookup(section ? section + '.' + key : key); return v === undefined || (typeof v === 'object' && Object.keys(v).length === 0) ? fallback : v; } });
class Disposable { constructor(f) { this.f = f; } dispose() { this.f?.(); } static from(...all) { return new Disposable(() => all.forEach((d) => d?.dispose?.())); } }
class EventEmitter { constructor() { this.event = () => new Disposable(); } fire() {} dispose() {} }
const event = () => new Disposable();
/** Any other member: callable and constructible, returning more of the same; never a thenable. */
const inert = () => new Proxy(function () {}, {
  get: (_, key) => (key === 'then' || typeof key === 'symbol' ? undefined : key === 'dispose' ? () => {} : inert()),
  apply: () => inert(),
  construct: () => inert(),
});
/** Known members first; onDid... and onWill... events give a Disposable; the rest is inert. */
const partly = (known) => new Proxy(known, { get: (t, k) => (k in t ? t[k] : typeof k === 'string' && /^on(Did|Will)/.test(k) ? event : inert()) });
const channel = (name) => partly({ name, logLevel: 0, onDidChangeLogLevel: event });
module.exports = partly({
  version: '1.91.0',
  Disposable,
  EventEmitter,
  workspace: partly({
    workspaceFolders: ${JSON.stringify(folders)}.map((fsPath) => ({ uri: { scheme: 'file', fsPath } })),
    isTrusted: ${trusted},
    getConfiguration: configuration,
    textDocuments: [],
  }),
  window: partly({
    showErrorMessage: (message, ...items) => (record.errors.push({ message, items }), Promise.resolve(${JSON.stringify(choice)})),
    createOutputChannel: channel,
  }),
  commands: partly({
    registerCommand: (id) => (record.registered.push(id), new Disposable()),
    executeCommand: (...args) => (record.executed.push(args), Promise.resolve()),
  }),
});
`;
}

/** A language server started as `command ...args`: `node` is the interpreter's absolute path (PATH may be empty). */
export function fakeServer(node: string): string {
  return `#!${node}
const { appendFileSync } = require('node:fs');
const log = (entry) => appendFileSync(process.env.DLC_FAKE_LOG, JSON.stringify(entry) + '\\n');
log({ argv: process.argv.slice(2) });
let buffer = Buffer.alloc(0);
process.stdin.on('data', (data) => {
  buffer = Buffer.concat([buffer, data]);
  for (;;) {
    const end = buffer.indexOf('\\r\\n\\r\\n');
    if (end < 0) return;
    const length = Number(/Content-Length: *(\\d+)/i.exec(buffer.subarray(0, end).toString())[1]);
    if (buffer.length < end + 4 + length) return;
    const message = JSON.parse(buffer.subarray(end + 4, end + 4 + length).toString());
    buffer = buffer.subarray(end + 4 + length);
    log({ method: message.method, params: message.params });
    const reply = (result) => {
      const body = JSON.stringify({ jsonrpc: '2.0', id: message.id, result });
      process.stdout.write('Content-Length: ' + Buffer.byteLength(body) + '\\r\\n\\r\\n' + body);
    };
    if (message.method === 'initialize') reply({ capabilities: { textDocumentSync: 1 } });
    else if (message.method === 'shutdown') reply(null);
    else if (message.method === 'exit') process.exit(0);
  }
});
`;
}
