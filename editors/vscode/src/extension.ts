/**
 * The VS Code side of dlc's editor support: a language client that starts
 * `dlc lsp --stdio` for .dl files. Everything a user sees beyond colours
 * (diagnostics, hovers, completion, navigation, inlay hints, formatting) is
 * the server's; this file only finds the server (server.ts), passes it the
 * `dlc.*` settings, and restarts it when `dlc.path` changes.
 *
 * Settings reach the server twice: `initializationOptions.inlayHints` at start,
 * and `workspace/didChangeConfiguration` with the whole `dlc` section on every
 * change. The client also drops inlay hints itself while `dlc.inlayHints` is
 * off, so the setting works whatever the server does with it.
 */
import { createInterface } from 'node:readline';
import * as vscode from 'vscode';
import { CloseAction, ErrorAction, InlayHintRequest, LanguageClient, type ErrorHandler, type LanguageClientOptions, type ServerOptions } from 'vscode-languageclient/node';
import { findServer, MESSAGES } from './server';

let client: LanguageClient | undefined;
/** How many of the server's last stderr lines a failed start quotes. */
const STDERR_LINES = 3;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  context.subscriptions.push(
    vscode.commands.registerCommand('dlc.restartServer', () => restart()),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration('dlc.path')) void restart();
      else if (e.affectsConfiguration('dlc.inlayHints')) refreshInlayHints();
    }),
    // Trusted now: the workspace's own dlc and dlc.path may be used.
    vscode.workspace.onDidGrantWorkspaceTrust(() => void restart()),
  );
  await start();
}

export async function deactivate(): Promise<void> {
  await stop();
}

const inlayHintsOn = (scope?: vscode.TextDocument) => vscode.workspace.getConfiguration('dlc', scope).get<boolean>('inlayHints', true);

async function start(): Promise<void> {
  const found = findServer({
    setting: vscode.workspace.getConfiguration('dlc').get<string>('path', ''),
    folders: (vscode.workspace.workspaceFolders ?? []).filter((f) => f.uri.scheme === 'file').map((f) => f.uri.fsPath),
    trusted: vscode.workspace.isTrusted,
    env: process.env,
    platform: process.platform,
  });
  if ('problem' in found) return showError(found.problem);

  const serverOptions: ServerOptions = { command: found.command, args: found.args, options: { shell: found.shell } };
  // The server's stderr goes to the output channel, as by default; its last
  // lines also explain a failed start (a dlc too old for `lsp` says so there).
  const stderr: string[] = [];
  let stderrClosed: Promise<void> = Promise.resolve();
  // Until the server has started, a closed connection is a failed start, which
  // the catch below explains once: the client's default handler would restart
  // it and show its own message ("Restarting server failed") over ours. After
  // the start, its default handler (restart a crashed server) applies.
  let running: ErrorHandler | undefined;
  const errorHandler: ErrorHandler = {
    error: (error, message, count) => running?.error(error, message, count) ?? { action: ErrorAction.Shutdown, handled: true },
    closed: () => running?.closed() ?? { action: CloseAction.DoNotRestart, handled: true },
  };
  const clientOptions: LanguageClientOptions = {
    stdioOptions: {
      stdout: (input, channel) => void createInterface({ input, crlfDelay: Infinity }).on('line', (line) => channel.info(line)),
      stderr: (input, channel) => {
        stderrClosed = new Promise((resolve) => input.once('close', resolve));
        createInterface({ input, crlfDelay: Infinity }).on('line', (line) => {
          channel.error(line);
          stderr.push(line);
          if (stderr.length > STDERR_LINES) stderr.shift();
        });
      },
    },
    documentSelector: [
      { scheme: 'file', language: 'dl' },
      { scheme: 'untitled', language: 'dl' },
    ],
    initializationOptions: { inlayHints: inlayHintsOn() },
    errorHandler,
    synchronize: { configurationSection: 'dlc' },
    middleware: {
      provideInlayHints: (document, range, token, next) => (inlayHintsOn(document) ? next(document, range, token) : []),
    },
  };
  // The id 'dlc' makes the client read the `dlc.trace.server` setting.
  client = new LanguageClient('dlc', 'dlc language server', serverOptions, clientOptions);
  try {
    await client.start();
    running = client.createDefaultErrorHandler();
  } catch (e) {
    client = undefined;
    await Promise.race([stderrClosed, new Promise((resolve) => setTimeout(resolve, 1000))]);
    showError(MESSAGES.failed(found.command, stderr.length > 0 ? stderr.join(' ') : e instanceof Error ? e.message : String(e)));
  }
}

async function stop(): Promise<void> {
  const running = client;
  client = undefined;
  if (running?.isRunning()) await running.stop();
}

async function restart(): Promise<void> {
  await stop();
  await start();
}

/** Asks VS Code to fetch the hints again (or, off, to show the middleware's none). */
function refreshInlayHints(): void {
  const feature = client?.getFeature(InlayHintRequest.method);
  const providers = new Set(vscode.workspace.textDocuments.filter((d) => d.languageId === 'dl').map((d) => feature?.getProvider(d)));
  for (const provider of providers) provider?.onDidChangeInlayHints.fire();
}

function showError(message: string): void {
  void vscode.window.showErrorMessage(message, MESSAGES.openSettings).then((choice) => {
    if (choice === MESSAGES.openSettings) void vscode.commands.executeCommand('workbench.action.openSettings', 'dlc.path');
  });
}
