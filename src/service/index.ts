/**
 * The dlc language service: editor features as pure functions of a
 * document's analysis and a position, in LSP's types
 * (vscode-languageserver-types, which runs in browsers). No transport and no
 * Node APIs: src/lsp/server.ts serves them over stdio, and a browser editor
 * can call them directly.
 */
export { analyse, DocumentCache, uriPath, type Analysis } from './analysis.js';
export { diagnostics, codeActions, SOURCE } from './diagnostics.js';
export { hover } from './hover.js';
export { completion, completionContext } from './completion.js';
export { definition, references, prepareRename, rename, documentSymbols } from './navigate.js';
export { inlayHints } from './hints.js';
export { formattingEdits } from './format.js';
