/**
 * Bad input to `dlc lsp --stdio`, written as raw bytes where a client library
 * would refuse to write it: messages that are not JSON, not JSON-RPC or not
 * framed, text that is not UTF-8 or starts with a byte order mark, and a
 * document past the compiler's size limit. Each is answered with the error
 * JSON-RPC 2.0 prescribes, or ignored, and the server keeps serving.
 * Then broken files: every prefix of an example, with every request at
 * every line.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CompletionRequest,
  DocumentSymbolRequest,
  HoverRequest,
  InlayHintRequest,
  DefinitionRequest,
  CodeActionRequest,
} from 'vscode-languageserver-protocol/node';
import { MAX_SOURCE_CHARS } from '../../src/frontend/scan.js';
import { cliSandbox } from '../cli/process.js';
import { example, rangeOf, startClient } from './client.js';

/** The server as a process, and its output read frame by frame. */
class RawServer {
  child: ChildProcessWithoutNullStreams;
  private buffer = Buffer.alloc(0);
  private messages: Record<string, unknown>[] = [];
  private waiters: (() => void)[] = [];

  constructor(args = ['lsp', '--stdio']) {
    this.child = spawn('node', ['bin/dlc.js', ...args], { stdio: 'pipe' });
    this.child.stdout.on('data', (chunk: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, chunk]);
      for (;;) {
        const end = this.buffer.indexOf('\r\n\r\n');
        if (end < 0) break;
        const length = Number(/Content-Length: (\d+)/i.exec(this.buffer.subarray(0, end).toString())![1]);
        if (this.buffer.length < end + 4 + length) break;
        this.messages.push(JSON.parse(this.buffer.subarray(end + 4, end + 4 + length).toString('utf8')));
        this.buffer = this.buffer.subarray(end + 4 + length);
      }
      this.waiters.splice(0).forEach((w) => w());
    });
  }

  /** A frame with the right Content-Length around `body`. */
  send(body: string | Buffer, headers = true) {
    const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
    this.child.stdin.write(Buffer.concat([Buffer.from(headers ? `Content-Length: ${bytes.length}\r\n\r\n` : ''), bytes]));
  }
  json(message: object) {
    this.send(JSON.stringify({ jsonrpc: '2.0', ...message }));
  }

  /** The next message that `pick` accepts (earlier ones that it does not stay queued). */
  async next(pick: (m: Record<string, unknown>) => boolean): Promise<Record<string, unknown>> {
    for (;;) {
      const i = this.messages.findIndex(pick);
      if (i >= 0) return this.messages.splice(i, 1)[0];
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }
  response(id: number | null) {
    return this.next((m) => m.id === id && ('result' in m || 'error' in m));
  }
  diagnostics(uri: string) {
    return this.next((m) => m.method === 'textDocument/publishDiagnostics' && (m.params as { uri: string }).uri === uri).then((m) => (m.params as { diagnostics: { code: string; message: string; range: unknown }[] }).diagnostics);
  }
}

let server: RawServer;
let nextId = 1;
/** A request the server must still answer: proof that it is alive and reading. */
async function stillServing() {
  const id = nextId++;
  server.json({ id, method: 'textDocument/documentSymbol', params: { textDocument: { uri: 'file:///never-opened.dl' } } });
  expect(await server.response(id)).toEqual({ jsonrpc: '2.0', id, result: null });
}

beforeAll(async () => {
  server = new RawServer();
  const id = nextId++;
  server.json({ id, method: 'initialize', params: { processId: null, rootUri: null, capabilities: {} } });
  expect(await server.response(id)).toMatchObject({ result: { capabilities: { hoverProvider: true } } });
  server.json({ method: 'initialized', params: {} });
});

afterAll(async () => {
  const id = nextId++;
  server.json({ id, method: 'shutdown' });
  await server.response(id);
  const exited = new Promise<number | null>((resolve) => server.child.on('exit', resolve));
  server.json({ method: 'exit' });
  expect(await exited).toBe(0);
});

describe('malformed messages', () => {
  it('a body that is not JSON gets a parse error (-32700, id null)', async () => {
    server.send('{"jsonrpc": "2.0", "id": 99, "method": ');
    expect(await server.response(null)).toMatchObject({ jsonrpc: '2.0', id: null, error: { code: -32700, message: expect.stringMatching(/^parse error: /) } });
    await stillServing();
  });

  it('JSON that is no JSON-RPC message gets invalid request (-32600), with its id when it has one', async () => {
    for (const body of ['{"hello": 1}', '[1, 2, 3]', '"text"', 'null']) {
      server.send(body);
      expect(await server.response(null), body).toMatchObject({ id: null, error: { code: -32600 } });
    }
    server.send('{"jsonrpc": "2.0", "id": 41}');
    expect(await server.response(41)).toMatchObject({ error: { code: -32600, message: 'invalid request: not a JSON-RPC 2.0 request, notification or response' } });
    server.send('{"jsonrpc": "1.0", "id": 42, "method": "initialize"}');
    expect(await server.response(42)).toMatchObject({ error: { code: -32600 } });
    await stillServing();
  });

  it('a header without Content-Length is skipped; a method the server lacks gets method not found (-32601)', async () => {
    server.send('X-Nonsense: yes\r\n\r\n', false);
    await stillServing();
    const id = nextId++;
    server.json({ id, method: 'textDocument/noSuchThing', params: {} });
    expect(await server.response(id)).toMatchObject({ error: { code: -32601 } });
  });

  it('a didOpen whose text is not a string, and requests with missing parameters, do not stop the server', async () => {
    server.json({ method: 'textDocument/didOpen', params: { textDocument: { uri: 'file:///number.dl', languageId: 'dl', version: 1, text: 42 } } });
    const id = nextId++;
    server.json({ id, method: 'textDocument/hover', params: {} });
    expect(await server.response(id)).toHaveProperty('error');
    await stillServing();
  });
});

describe('documents the compiler would not read as they are', () => {
  it('invalid UTF-8 reads as U+FFFD, which is the syntax error at its place', async () => {
    const uri = 'file:///latin1.dl';
    const before = 'model M {\n  input x: [4]\n  output y = x -> ';
    // The JSON string's bytes as written: escapes for the newlines, then two bytes that are not UTF-8.
    const text = Buffer.concat([Buffer.from(JSON.stringify(before).slice(1, -1)), Buffer.from([0xe9, 0xff]), Buffer.from('\\n}\\n')]);
    const prefix = JSON.stringify({ jsonrpc: '2.0', method: 'textDocument/didOpen', params: { textDocument: { uri, languageId: 'dl', version: 1, text: '@' } } });
    const [head, tail] = prefix.split('@');
    server.send(Buffer.concat([Buffer.from(head), text, Buffer.from(tail)]));
    const [d, ...rest] = await server.diagnostics(uri);
    expect(rest).toEqual([]);
    expect(d).toMatchObject({ code: 'syntax', range: { start: { line: 2, character: before.split('\n')[2].length } } });
    expect(d.message).toContain("found '\uFFFD'");
  });

  it('a byte order mark reads as the start of the file, and positions stay those of the document', async () => {
    const uri = 'file:///bom.dl';
    const text = '\uFEFFmodel M {\n  input x: [4]\n  output y = x -> dens(3)\n}\n';
    server.json({ method: 'textDocument/didOpen', params: { textDocument: { uri, languageId: 'dl', version: 1, text } } });
    const ds = await server.diagnostics(uri);
    expect(ds).toMatchObject([{ code: 'unknown-op', range: rangeOf(text, 'dens') }]);
    server.json({ method: 'textDocument/didChange', params: { textDocument: { uri, version: 2 }, contentChanges: [{ range: rangeOf(text, 'dens'), text: 'dense' }] } });
    expect(await server.diagnostics(uri)).toEqual([]);
  });

  it("a document past the compiler's size limit gets the limit's diagnostic, and requests on it answer quickly and emptily", async () => {
    const uri = 'file:///huge.dl';
    const line = 'const c = 1 # padding padding padding padding padding padding padding\n';
    const text = line.repeat(Math.ceil((MAX_SOURCE_CHARS + 1) / line.length));
    expect(text.length).toBeGreaterThan(MAX_SOURCE_CHARS);
    server.json({ method: 'textDocument/didOpen', params: { textDocument: { uri, languageId: 'dl', version: 1, text } } });
    const ds = await server.diagnostics(uri);
    expect(ds).toMatchObject([{ code: 'limit', message: 'this file is longer than dlc reads: the limit is 8 MiB of text' }]);
    for (const [method, extra] of [['textDocument/hover', { position: { line: 5, character: 7 } }], ['textDocument/documentSymbol', {}], ['textDocument/completion', { position: { line: 5, character: 0 } }]] as const) {
      const id = nextId++;
      server.json({ id, method, params: { textDocument: { uri }, ...extra } });
      expect((await server.response(id)).result, method).toEqual(method === 'textDocument/hover' ? null : []);
    }
    server.json({ method: 'textDocument/didClose', params: { textDocument: { uri } } });
    expect(await server.diagnostics(uri)).toEqual([]);
  }, 60_000);
});

describe('broken files', () => {
  it('every prefix of an example, with every request on every line, is answered without an error', async () => {
    const client = await startClient();
    const text = example('residual.dl');
    const uri = 'file:///prefixes.dl';
    await client.open(uri, '');
    const cuts = Array.from({ length: 24 }, (_, i) => Math.round((i * text.length) / 23));
    const lines = text.split('\n').length;
    for (const cut of cuts) {
      const prefix = text.slice(0, cut);
      await client.edit(uri, { start: { line: 0, character: 0 }, end: { line: lines + 1, character: 0 } }, prefix);
      const range = { start: { line: 0, character: 0 }, end: { line: lines, character: 0 } };
      await client.connection.sendRequest(DocumentSymbolRequest.type, { textDocument: { uri } });
      await client.connection.sendRequest(InlayHintRequest.type, { textDocument: { uri }, range });
      await client.connection.sendRequest(CodeActionRequest.type, { textDocument: { uri }, range, context: { diagnostics: [] } });
      for (let line = 0; line < prefix.split('\n').length; line++)
        for (const character of [0, 5, 12, 40]) {
          const at = { textDocument: { uri }, position: { line, character } };
          await client.connection.sendRequest(HoverRequest.type, at);
          await client.connection.sendRequest(CompletionRequest.type, at);
          await client.connection.sendRequest(DefinitionRequest.type, at);
        }
    }
    expect(client.stderr()).toBe('');
    expect(await client.stop()).toBe(0);
  }, 120_000);
});

describe('the command', () => {
  it('`dlc lsp --help` says what it is; without --stdio it speaks over stdio all the same', async () => {
    const help = cliSandbox('dlc-lsp-help-').dlc('lsp', '--help');
    expect(help.code).toBe(0);
    expect(help.stdout.replace(/\s+/g, ' ')).toContain('run the language server for editors (LSP over stdin and stdout)');
    expect(help.stdout).toContain('--stdio');
    const plain = new RawServer(['lsp']);
    plain.json({ id: 1, method: 'initialize', params: { processId: null, rootUri: null, capabilities: {} } });
    expect(await plain.response(1)).toMatchObject({ result: { serverInfo: { name: 'dlc' } } });
    plain.json({ id: 2, method: 'shutdown' });
    await plain.response(2);
    const exited = new Promise<number | null>((resolve) => plain.child.on('exit', resolve));
    plain.json({ method: 'exit' });
    expect(await exited).toBe(0);
  });
});
