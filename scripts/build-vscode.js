// Builds the VS Code extension in editors/vscode/ (`npm run vscode`, after
// `npm run build`):
//   1. syntaxes/dl.tmLanguage.json from syntaxes/dl.grammar.mjs and the op
//      registry (dist/src/ops), so that every op .dl may call highlights as one;
//   2. type-checks src/ (tsconfig.json there) and bundles src/extension.ts with
//      its dependencies (vscode-languageclient) into dist/extension.js, one
//      CommonJS file that requires only 'vscode';
//   3. packs the extension with vsce into out/dlc-<version>.vsix (or --out PATH),
//      offline: nothing is fetched, the bundle stands in for node_modules.
// The extension's version is the root package.json's; step 1 writes it into
// editors/vscode/package.json when they differ.
//
//   node scripts/build-vscode.js [--grammar] [--out PATH] [--preview PNG]
// --grammar: step 1 only (the grammar tests need nothing else).
// --preview PNG: after step 1, draws examples/mnist_train.dl as the grammar
//   colours it, in VS Code's Dark+ colours (VS Code cannot run here to take a
//   screenshot); then stops.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { dlGrammar } from '../editors/vscode/syntaxes/dl.grammar.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const extension = join(root, 'editors/vscode');
/** A mistake of the caller's: the message, and exit 1 (a bug still gets its stack). */
const fail = (message) => {
  console.error(`build-vscode: ${message}`);
  process.exit(1);
};
let options;
try {
  options = parseArgs({ options: { grammar: { type: 'boolean' }, out: { type: 'string' }, preview: { type: 'string' } } }).values;
} catch (e) {
  fail(`${e.message}\nusage: node scripts/build-vscode.js [--grammar] [--out PATH] [--preview PNG]`);
}
// The op list comes from the compiled registry.
if (!existsSync(join(root, 'dist/src/ops/index.js'))) fail('dist/ is missing: run npm run build first (npm run vscode does both)');
const { callableOps, OPS } = await import('../dist/src/ops/index.js');
const { checkWritable, removeTemporary, temporaryPath, writeFileAtomic } = await import('../dist/src/files.js');
const { UserError } = await import('../dist/src/diagnostics.js');
process.on('uncaughtException', (e) => {
  if (e instanceof UserError) fail(e.message);
  console.error(e);
  process.exit(1);
});

const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const out = resolve(options.out ?? join(root, `out/dlc-${version}.vsix`));
// Before the work: an output that cannot be written is a clear error now, not after it.
await checkWritable(options.preview ? [resolve(options.preview)] : options.grammar ? [] : [out]);

// 1. The grammar, and the manifest's version.
const ops = callableOps();
const choices = new Set(Object.values(OPS).flatMap((op) => op.attrs.flatMap((a) => (a.type.kind === 'symbol' ? a.type.choices : []))));
for (const op of ops) choices.delete(op); // an activation given as an argument is an op
await writeFileAtomic(join(extension, 'syntaxes/dl.tmLanguage.json'), `${JSON.stringify(dlGrammar({ ops, choices, version }), null, 2)}\n`);

const manifestPath = join(extension, 'package.json');
const manifestText = readFileSync(manifestPath, 'utf8');
const manifest = JSON.parse(manifestText);
if (manifest.version !== version) {
  await writeFileAtomic(manifestPath, manifestText.replace(/^(\s*"version":\s*)"[^"]*"/m, `$1"${version}"`));
  console.log(`editors/vscode/package.json: version ${manifest.version} -> ${version}, the root package's`);
}
if (options.preview) await writeFileAtomic(options.preview, await preview('examples/mnist_train.dl'));
if (options.grammar || options.preview) process.exit(0);

// 2. Type-check, then bundle.
const tsc = spawnSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(extension, 'tsconfig.json')], { stdio: 'inherit' });
if (tsc.status !== 0) process.exit(1);
const esbuild = await import('esbuild');
const bundle = await esbuild.build({
  entryPoints: [join(extension, 'src/extension.ts')],
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  external: ['vscode'],
  minify: true,
  sourcemap: false,
  write: false,
  logLevel: 'warning',
});
mkdirSync(join(extension, 'dist'), { recursive: true });
await writeFileAtomic(join(extension, 'dist/extension.js'), bundle.outputFiles[0].contents);

// 3. The .vsix, written beside its destination and renamed into place.
const { createVSIX } = await import('@vscode/vsce');
const temporary = temporaryPath(out);
try {
  await createVSIX({ cwd: extension, packagePath: temporary, dependencies: false, allowMissingRepository: true });
  renameSync(temporary, out);
} finally {
  await removeTemporary(temporary);
}
console.log(`wrote ${out}`);

/**
 * `file` tokenised by the generated grammar (vscode-textmate with the
 * Oniguruma engine, as VS Code does) and drawn as a PNG: each token in the
 * Dark+ colour of its innermost scope that the table below names.
 */
async function preview(file) {
  const { createRequire } = await import('node:module');
  const { default: textmate } = await import('vscode-textmate');
  const { default: oniguruma } = await import('vscode-oniguruma');
  const wasm = readFileSync(createRequire(import.meta.url).resolve('vscode-oniguruma/release/onig.wasm'));
  await oniguruma.loadWASM(wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.byteLength));
  const registry = new textmate.Registry({
    onigLib: Promise.resolve({ createOnigScanner: (p) => new oniguruma.OnigScanner(p), createOnigString: (s) => new oniguruma.OnigString(s) }),
    loadGrammar: async () => textmate.parseRawGrammar(readFileSync(join(extension, 'syntaxes/dl.tmLanguage.json'), 'utf8'), 'dl.tmLanguage.json'),
  });
  const grammar = await registry.loadGrammar('source.dl');
  // Dark+ (VS Code's default dark theme), by scope prefix; the longest matching prefix wins.
  const COLOURS = {
    comment: '#6A9955',
    string: '#CE9178',
    'constant.character.escape': '#D7BA7D',
    'constant.numeric': '#B5CEA8',
    'constant.language': '#569CD6',
    'storage.type': '#569CD6',
    keyword: '#C586C0',
    'keyword.operator': '#D4D4D4',
    'support.function': '#DCDCAA',
    'entity.name.function': '#DCDCAA',
    'entity.name.type': '#4EC9B0',
    'support.type': '#4EC9B0',
    'support.constant': '#4FC1FF',
    'variable.other.constant': '#4FC1FF',
    variable: '#9CDCFE',
    invalid: '#F44747',
  };
  const colour = (scopes) => {
    for (const scope of [...scopes].reverse()) {
      const prefix = Object.keys(COLOURS)
        .filter((p) => scope === p || scope.startsWith(`${p}.`))
        .sort((a, b) => b.length - a.length)[0];
      if (prefix) return COLOURS[prefix];
    }
    return '#D4D4D4';
  };
  const escape = (text) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  const lines = readFileSync(join(root, file), 'utf8').replace(/\n$/, '').split('\n');
  const [size, advance, leading, margin] = [13, 13 * 0.602, 19, 14]; // DejaVu Sans Mono advances 0.602 em
  let stack = textmate.INITIAL;
  const rows = lines.map((line, i) => {
    const { tokens, ruleStack } = grammar.tokenizeLine(line, stack);
    stack = ruleStack;
    const spans = tokens.map((t) => `<tspan fill="${colour(t.scopes)}">${escape(line.slice(t.startIndex, t.endIndex))}</tspan>`).join('');
    return `<text x="${margin}" y="${margin + (i + 0.75) * leading}" xml:space="preserve">${spans}</text>`;
  });
  const width = Math.ceil(2 * margin + advance * Math.max(...lines.map((l) => l.length)));
  const height = Math.ceil(2 * margin + leading * lines.length);
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}px" height="${height}px" font-family="DejaVu Sans Mono" font-size="${size}">
<rect width="100%" height="100%" fill="#1E1E1E"/>
${rows.join('\n')}
</svg>`;
  const { renderAsync } = await import('@resvg/resvg-js');
  const font = '/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf'; // Debian's fonts-dejavu-core
  if (!existsSync(font)) throw new Error(`--preview draws with ${font}, which is missing (Debian: apt-get install fonts-dejavu-core)`);
  const image = await renderAsync(svg, { fitTo: { mode: 'zoom', value: 2 }, font: { loadSystemFonts: false, fontFiles: [font], defaultFontFamily: 'DejaVu Sans Mono' }, logLevel: 'off' });
  return image.asPng();
}
