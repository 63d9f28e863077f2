/**
 * `dlc lsp`: the language service (src/service) over LSP on stdin and
 * stdout. This file is transport only: it keeps the open documents, checks
 * each one after an edit (debounced, latest text wins), publishes its
 * diagnostics, and answers requests from the analysis of the current text.
 *
 * It never exits on bad input: a document the checker fails on gets a
 * diagnostic saying so; a message that is not JSON is answered with
 * JSON-RPC's parse error (-32700), and JSON that is no JSON-RPC message with
 * invalid request (-32600), with id null unless the message has an id, as
 * JSON-RPC 2.0 says; a header block without Content-Length is skipped. Text
 * with invalid UTF-8 reads with U+FFFD in its place (and gets the syntax
 * error there), a byte order mark reads as a space, and a document over the
 * compiler's size limit gets the compiler's limit diagnostic.
 *
 * Settings (initializationOptions, or `dlc.*` in workspace/didChangeConfiguration):
 * `inlayHints` (default true) shows shapes inline; `diagnosticsDelay` (ms,
 * default 50) is how long to wait after an edit before checking.
 */
import {
  CodeActionKind,
  createConnection,
  ErrorCodes,
  Message,
  ResponseError,
  StreamMessageReader,
  StreamMessageWriter,
  TextDocuments,
  TextDocumentSyncKind,
  type DataCallback,
  type Disposable,
  type InitializeResult,
  type MessageWriter,
} from 'vscode-languageserver/node';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { messages } from '../diagnostics.js';
import {
  analyse,
  codeActions,
  completion,
  definition,
  diagnostics,
  DocumentCache,
  documentSymbols,
  formattingEdits,
  hover,
  inlayHints,
  prepareRename,
  references,
  rename,
  type Analysis,
} from '../service/index.js';

export interface Settings {
  inlayHints: boolean;
  diagnosticsDelay: number;
}
const DEFAULTS: Settings = { inlayHints: true, diagnosticsDelay: 50 };

/** Settings from a client's object, keeping the current value of anything missing or of the wrong type. */
function settingsFrom(raw: unknown, current: Settings): Settings {
  const o = (raw && typeof raw === 'object' ? raw : {}) as Record<string, unknown>;
  return {
    inlayHints: typeof o.inlayHints === 'boolean' ? o.inlayHints : current.inlayHints,
    diagnosticsDelay: typeof o.diagnosticsDelay === 'number' && o.diagnosticsDelay >= 0 && o.diagnosticsDelay <= 10_000 ? o.diagnosticsDelay : current.diagnosticsDelay,
  };
}

/**
 * Reads LSP messages and lets through only JSON-RPC requests, notifications
 * and responses; anything else gets its error answer here.
 */
class CheckedReader extends StreamMessageReader {
  constructor(
    input: NodeJS.ReadableStream,
    private writer: MessageWriter,
  ) {
    super(input);
    this.onError((e) => {
      // Not JSON: the body was read whole (Content-Length framed it), so the next message is intact.
      if (e instanceof SyntaxError) this.answer(null, ErrorCodes.ParseError, messages.rpcParseError(e.message));
      // A header block without a length has no body to answer; vscode-jsonrpc drops it but then waits for
      // more input before reading what followed it in the same chunk: read that now.
      else if (/^Header must provide a Content-Length/.test(e.message)) setImmediate(() => (this as unknown as { onData(data: Uint8Array): void }).onData(new Uint8Array(0)));
    });
  }

  override listen(callback: DataCallback): Disposable {
    return super.listen((message) => {
      const m = message as unknown as Record<string, unknown>;
      const valid = m !== null && typeof m === 'object' && !Array.isArray(m) && m.jsonrpc === '2.0' && (Message.isRequest(message) || Message.isNotification(message) || Message.isResponse(message));
      if (valid) return callback(message);
      const id = m && typeof m === 'object' && (typeof m.id === 'number' || typeof m.id === 'string') ? m.id : null;
      this.answer(id, ErrorCodes.InvalidRequest, messages.rpcInvalidRequest());
    });
  }

  private answer(id: number | string | null, code: number, message: string) {
    void this.writer.write({ jsonrpc: '2.0', id, error: { code, message } } as Message);
  }
}

export function startServer(input: NodeJS.ReadableStream, output: NodeJS.WritableStream): void {
  const writer = new StreamMessageWriter(output);
  const connection = createConnection(new CheckedReader(input, writer), writer);
  const documents = new TextDocuments(TextDocument);
  let settings = DEFAULTS;
  let canRefreshHints = false;

  interface State {
    cache: DocumentCache;
    analysis?: { version: number; analysis: Analysis };
    timer?: ReturnType<typeof setTimeout>;
  }
  const states = new Map<string, State>();
  const stateOf = (uri: string): State => {
    let s = states.get(uri);
    if (!s) states.set(uri, (s = { cache: new DocumentCache() }));
    return s;
  };

  /** The analysis of a document's current text, made once per version. */
  function current(uri: string): Analysis | undefined {
    const doc = documents.get(uri);
    if (!doc) return undefined;
    const state = stateOf(uri);
    if (state.analysis?.version !== doc.version) state.analysis = { version: doc.version, analysis: analyse(doc.getText(), uri, state.cache) };
    return state.analysis.analysis;
  }

  function publish(uri: string) {
    const doc = documents.get(uri);
    const a = current(uri);
    if (doc && a) void connection.sendDiagnostics({ uri, version: doc.version, diagnostics: diagnostics(a) });
  }

  function schedule(uri: string, delay: number) {
    const state = stateOf(uri);
    clearTimeout(state.timer);
    state.timer = setTimeout(() => {
      state.timer = undefined;
      try {
        publish(uri);
      } catch (e) {
        connection.console.error(`dlc: checking ${uri} failed: ${(e as Error).stack ?? e}`);
      }
    }, delay);
  }

  /** A request's answer from the current analysis; null for a document that is not open. */
  const withAnalysis =
    <P extends { textDocument: { uri: string } }, R>(f: (a: Analysis, params: P) => R) =>
    (params: P): R | null => {
      const a = current(params.textDocument.uri);
      return a ? f(a, params) : null;
    };

  connection.onInitialize((params): InitializeResult => {
    settings = settingsFrom(params.initializationOptions, DEFAULTS);
    canRefreshHints = params.capabilities.workspace?.inlayHint?.refreshSupport === true;
    return {
      capabilities: {
        textDocumentSync: TextDocumentSyncKind.Incremental,
        hoverProvider: true,
        completionProvider: { triggerCharacters: ['(', ',', '=', '>'] },
        definitionProvider: true,
        referencesProvider: true,
        renameProvider: { prepareProvider: true },
        documentSymbolProvider: true,
        inlayHintProvider: true,
        codeActionProvider: { codeActionKinds: [CodeActionKind.QuickFix] },
        documentFormattingProvider: true,
      },
      serverInfo: { name: 'dlc' },
    };
  });

  connection.onDidChangeConfiguration((params) => {
    const before = settings;
    settings = settingsFrom((params.settings as { dlc?: unknown } | null)?.dlc, settings);
    if (before.inlayHints !== settings.inlayHints && canRefreshHints) void connection.languages.inlayHint.refresh();
  });

  documents.onDidOpen((e) => schedule(e.document.uri, 0));
  documents.onDidChangeContent((e) => schedule(e.document.uri, settings.diagnosticsDelay));
  documents.onDidClose((e) => {
    clearTimeout(states.get(e.document.uri)?.timer);
    states.delete(e.document.uri);
    void connection.sendDiagnostics({ uri: e.document.uri, diagnostics: [] });
  });

  connection.onHover(withAnalysis((a, p) => hover(a, p.position)));
  connection.onCompletion(withAnalysis((a, p) => completion(a, p.position)));
  connection.onDefinition(withAnalysis((a, p) => definition(a, p.position)));
  connection.onReferences(withAnalysis((a, p) => references(a, p.position, p.context.includeDeclaration)));
  connection.onPrepareRename(withAnalysis((a, p) => prepareRename(a, p.position)));
  connection.onRenameRequest(
    withAnalysis((a, p) => {
      const edit = rename(a, p.position, p.newName);
      if (edit && 'error' in edit) throw new ResponseError(ErrorCodes.InvalidParams, edit.error);
      return edit;
    }),
  );
  connection.onDocumentSymbol(withAnalysis((a) => documentSymbols(a)));
  connection.languages.inlayHint.on(withAnalysis((a, p) => (settings.inlayHints ? inlayHints(a, p.range) : [])));
  connection.onCodeAction(withAnalysis((a, p) => codeActions(a, p.range)));
  connection.onDocumentFormatting(withAnalysis((a) => formattingEdits(a)));

  // A bug of dlc's in an asynchronous path is logged for the editor; the documents stay served.
  process.on('uncaughtException', (e) => connection.console.error(`dlc: ${e.stack ?? e}`));
  documents.listen(connection);
  connection.listen();
}
