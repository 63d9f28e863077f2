/**
 * A language client for the tests: `dlc lsp --stdio` as a child process,
 * driven over its stdin and stdout by vscode-languageserver-protocol's
 * JSON-RPC connection, as an editor drives it.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import {
  createProtocolConnection,
  DidChangeTextDocumentNotification,
  DidCloseTextDocumentNotification,
  DidOpenTextDocumentNotification,
  ExitNotification,
  InitializedNotification,
  InitializeRequest,
  PublishDiagnosticsNotification,
  ShutdownRequest,
  StreamMessageReader,
  StreamMessageWriter,
  type Diagnostic,
  type ProtocolConnection,
  type PublishDiagnosticsParams,
  type Range,
} from 'vscode-languageserver-protocol/node';

export interface Client {
  child: ChildProcessWithoutNullStreams;
  connection: ProtocolConnection;
  /** What the server wrote to stderr so far. */
  stderr: () => string;
  open(uri: string, text: string): Promise<Diagnostic[]>;
  /** Replaces `range` with `text` (an incremental change) and waits for the diagnostics of the new version. */
  edit(uri: string, range: Range, text: string): Promise<Diagnostic[]>;
  close(uri: string): Promise<Diagnostic[]>;
  /** The next diagnostics published for `uri` at `version` or later. */
  diagnostics(uri: string, version?: number): Promise<Diagnostic[]>;
  stop(): Promise<number | null>;
}

export async function startClient(initializationOptions: object = {}, capabilities: object = {}): Promise<Client> {
  const child = spawn('node', ['bin/dlc.js', 'lsp', '--stdio'], { stdio: 'pipe' });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const connection = createProtocolConnection(new StreamMessageReader(child.stdout), new StreamMessageWriter(child.stdin));
  const published: PublishDiagnosticsParams[] = [];
  const waiters: { uri: string; version: number; resolve: (d: Diagnostic[]) => void }[] = [];
  connection.onNotification(PublishDiagnosticsNotification.type, (p) => {
    published.push(p);
    for (const w of [...waiters])
      if (w.uri === p.uri && (p.version ?? Infinity) >= w.version) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(p.diagnostics);
      }
  });
  connection.listen();
  await connection.sendRequest(InitializeRequest.type, { processId: process.pid, rootUri: null, capabilities, initializationOptions });
  await connection.sendNotification(InitializedNotification.type, {});
  const versions = new Map<string, number>();
  const diagnostics = (uri: string, version = 0) => new Promise<Diagnostic[]>((resolve) => waiters.push({ uri, version, resolve }));
  return {
    child,
    connection,
    stderr: () => stderr,
    diagnostics,
    async open(uri, text) {
      versions.set(uri, 1);
      const wait = diagnostics(uri, 1);
      await connection.sendNotification(DidOpenTextDocumentNotification.type, { textDocument: { uri, languageId: 'dl', version: 1, text } });
      return wait;
    },
    async edit(uri, range, text) {
      const version = (versions.get(uri) ?? 0) + 1;
      versions.set(uri, version);
      const wait = diagnostics(uri, version);
      await connection.sendNotification(DidChangeTextDocumentNotification.type, { textDocument: { uri, version }, contentChanges: [{ range, text }] });
      return wait;
    },
    async close(uri) {
      const wait = new Promise<Diagnostic[]>((resolve) => waiters.push({ uri, version: -Infinity, resolve }));
      await connection.sendNotification(DidCloseTextDocumentNotification.type, { textDocument: { uri } });
      return wait;
    },
    async stop() {
      await connection.sendRequest(ShutdownRequest.type);
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      await connection.sendNotification(ExitNotification.type);
      const code = await exited;
      connection.dispose();
      return code;
    },
  };
}

export const exampleUri = (name: string) => pathToFileURL(`examples/${name}`).href;
export const example = (name: string) => readFileSync(`examples/${name}`, 'utf8');
/** The range of the `nth` (from 0) occurrence of `needle` in `text`; a needle that is one name matches whole names only. */
export function rangeOf(text: string, needle: string, nth = 0): Range {
  const escaped = needle.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const pattern = new RegExp(/^\w+$/.test(needle) ? `(?<!\\w)${escaped}(?!\\w)` : escaped, 'g');
  const at = [...text.matchAll(pattern)][nth]?.index ?? -1;
  if (at < 0) throw new Error(`'${needle}' not in the text`);
  const pos = (offset: number) => {
    const before = text.slice(0, offset);
    return { line: before.split('\n').length - 1, character: offset - before.lastIndexOf('\n') - 1 };
  };
  return { start: pos(at), end: pos(at + needle.length) };
}
