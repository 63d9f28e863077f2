// `npm run bench`: every benchmark in one process, side by side, as markdown.
// Numbers are medians after warm-up; compare ratios within one run only
// (shared machines are noisy). Requires `npm run build` (npm install does it).
import os from 'node:os';

const SECTIONS = ['check', 'interp', 'memory', 'opt', 'tfjs', 'train', 'diagram', 'lsp'];
const only = process.argv.slice(2);

console.log(`# dlc benchmarks\n`);
console.log(`Machine: ${os.cpus()[0]?.model ?? 'unknown CPU'}, ${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}\n`);
for (const name of SECTIONS) {
  if (only.length > 0 && !only.includes(name)) continue;
  const section = await import(`./${name}.js`);
  console.log(await section.run());
  console.log();
}
