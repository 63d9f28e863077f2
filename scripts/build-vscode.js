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
//   node scripts/build-vscode.js [--grammar] [--out PATH]
// --grammar: step 1 only (the grammar tests need nothing else).
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, renameSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { callableOps, OPS } from '../dist/src/ops/index.js';
import { removeTemporary, temporaryPath, writeFileAtomic } from '../dist/src/files.js';
import { dlGrammar } from '../editors/vscode/syntaxes/dl.grammar.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const extension = join(root, 'editors/vscode');
const { values: options } = parseArgs({ options: { grammar: { type: 'boolean' }, out: { type: 'string' } } });

const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

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
if (options.grammar) process.exit(0);

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
const out = resolve(options.out ?? join(root, `out/dlc-${version}.vsix`));
mkdirSync(dirname(out), { recursive: true });
const { createVSIX } = await import('@vscode/vsce');
const temporary = temporaryPath(out);
try {
  await createVSIX({ cwd: extension, packagePath: temporary, dependencies: false, allowMissingRepository: true });
  renameSync(temporary, out);
} finally {
  await removeTemporary(temporary);
}
console.log(`wrote ${out}`);
