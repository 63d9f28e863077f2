// Loaded with `node --import` by bench/memory.js: when the process exits,
// write its peak resident size in bytes (maxRSS) to the file DLC_BENCH_RSS names.
import { writeFileSync } from 'node:fs';

process.on('exit', () => writeFileSync(process.env.DLC_BENCH_RSS, String(process.resourceUsage().maxRSS * 1024)));
