// Builds the table of support declarations that generated TensorFlow.js
// modules copy (src/backends/tfjs/inline.ts reads it; the emitter never reads
// .ts files). The TypeScript parser cuts the runtime (src/runtime/*.ts) and
// src/backends/tfjs/support.ts into their top-level declarations: each with
// the comment directly above it, `export` removed, formatted as generated
// modules are, and the top-level names its code refers to. Imports are
// dropped, so each file may import only `tf` and the runtime.
//
// Runs after tsc (it reads the formatting options from dist/), and writes
// src/backends/tfjs/support-declarations.json and the same next to the
// compiled emitter in dist/, as build-wasm.js does with its .wasm. The tfjs
// tests check that the table matches the sources.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { format } from 'prettier';
import ts from 'typescript';
import { PRETTIER } from '../dist/src/backends/tfjs/inline.js';

/** The files, in the order their declarations appear in a generated module. */
export const SOURCES = [
  'src/runtime/tensor.ts',
  'src/runtime/random.ts',
  'src/runtime/init.ts',
  'src/runtime/positional.ts',
  'src/runtime/safetensors.ts',
  'src/runtime/losses.ts',
  'src/runtime/optimizers.ts',
  'src/runtime/messages.ts',
  'src/runtime/window.ts',
  'src/runtime/upsample.ts',
  'src/runtime/batchnorm.ts',
  'src/backends/tfjs/support.ts',
];

const OUTPUT = 'src/backends/tfjs/support-declarations.json';
const root = new URL('../', import.meta.url);

/** Every declaration, in SOURCES order: { name, file, text, uses }. */
export async function supportDeclarations() {
  const unlisted = readdirSync(new URL('src/runtime/', root)).filter((f) => f.endsWith('.ts') && !SOURCES.includes(`src/runtime/${f}`));
  if (unlisted.length > 0) throw new Error(`scripts/support.js: add ${unlisted.map((f) => `src/runtime/${f}`).join(', ')} to SOURCES`);
  const declarations = [];
  for (const file of SOURCES) {
    const text = readFileSync(new URL(file, root), 'utf8');
    for (const d of declarationsOf(file, text)) declarations.push({ ...d, text: (await format(d.text, PRETTIER)).trimEnd() });
  }
  const seen = new Set();
  for (const { name, file } of declarations) {
    if (seen.has(name)) throw new Error(`${file}: '${name}' is declared twice among the support sources`);
    seen.add(name);
  }
  const names = new Set(declarations.map((d) => d.name));
  // Only references to other declarations matter for inclusion.
  return declarations.map((d) => ({ ...d, uses: d.uses.filter((w) => names.has(w) && w !== d.name) }));
}

/** One file's top-level declarations; anything else at the top level (other than imports) is an error. */
function declarationsOf(file, text) {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS);
  const out = [];
  for (const statement of source.statements) {
    const where = `${file}:${source.getLineAndCharacterOfPosition(statement.getStart()).line + 1}`;
    if (ts.isImportDeclaration(statement)) {
      const from = statement.moduleSpecifier.text;
      if (from !== '@tensorflow/tfjs' && !new URL(from, new URL(file, root)).href.startsWith(new URL('src/runtime/', root).href))
        throw new Error(`${where}: imports '${from}'; support code may import only @tensorflow/tfjs and the runtime`);
      continue;
    }
    const name = declaredName(statement);
    if (!name) throw new Error(`${where}: not a top-level declaration of one name`);
    out.push({ name, file, text: leadingComment(source, statement) + withoutExport(source, statement), uses: [...namesUsed(statement)] });
  }
  return out;
}

function declaredName(statement) {
  if (ts.isVariableStatement(statement)) {
    const list = statement.declarationList.declarations;
    return list.length === 1 && ts.isIdentifier(list[0].name) ? list[0].name.text : undefined;
  }
  if (ts.isFunctionDeclaration(statement) || ts.isClassDeclaration(statement) || ts.isInterfaceDeclaration(statement) || ts.isTypeAliasDeclaration(statement) || ts.isEnumDeclaration(statement))
    return statement.name?.text;
  return undefined;
}

/** The comments directly above a statement (no blank line between them and it), with their line break. */
function leadingComment(source, statement) {
  const text = source.text;
  const ranges = ts.getLeadingCommentRanges(text, statement.getFullStart()) ?? [];
  let start = statement.getStart();
  for (let i = ranges.length - 1; i >= 0; i--) {
    if (/\n[ \t]*\n/.test(text.slice(ranges[i].end, start))) break;
    start = ranges[i].pos;
  }
  return text.slice(start, statement.getStart());
}

/** The statement's text with its `export` keyword removed. */
function withoutExport(source, statement) {
  const text = statement.getText(source);
  const exported = ts.getModifiers?.(statement)?.find((m) => m.kind === ts.SyntaxKind.ExportKeyword);
  if (!exported) return text;
  const from = exported.getStart(source) - statement.getStart(source);
  const to = exported.getEnd() - statement.getStart(source);
  return text.slice(0, from) + text.slice(to).trimStart();
}

/** Identifiers a statement's code uses: not property names after `.`, object keys or member names. */
function namesUsed(statement) {
  const names = new Set();
  const visit = (node) => {
    if (ts.isIdentifier(node) && !isPropertyName(node)) names.add(node.text);
    ts.forEachChild(node, visit);
  };
  visit(statement);
  return names;
}

function isPropertyName(id) {
  const parent = id.parent;
  if ((ts.isPropertyAccessExpression(parent) || ts.isQualifiedName(parent)) && id !== (ts.isPropertyAccessExpression(parent) ? parent.expression : parent.left)) return true;
  const named = [ts.isPropertyAssignment, ts.isPropertySignature, ts.isPropertyDeclaration, ts.isMethodDeclaration, ts.isMethodSignature, ts.isGetAccessorDeclaration, ts.isSetAccessorDeclaration, ts.isEnumMember];
  if (named.some((is) => is(parent)) && parent.name === id) return true;
  return ts.isBindingElement(parent) && parent.propertyName === id;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  try {
    const json = JSON.stringify(await supportDeclarations(), null, 1) + '\n';
    writeFileSync(new URL(OUTPUT, root), json);
    writeFileSync(new URL(`dist/${OUTPUT}`, root), json);
  } catch (e) {
    console.error(`support: ${e instanceof Error ? e.message : e}`);
    process.exitCode = 1;
  }
}
