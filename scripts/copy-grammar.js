// Copies the generated grammar bundle next to the compiled sources, so that
// dist/src/frontend/*.js finds ../../grammar/dl.ohm-bundle.js as src/ does.
import { copyFileSync, mkdirSync } from 'node:fs';
mkdirSync('dist/grammar', { recursive: true });
for (const ext of ['js', 'd.ts']) copyFileSync(`grammar/dl.ohm-bundle.${ext}`, `dist/grammar/dl.ohm-bundle.${ext}`);
