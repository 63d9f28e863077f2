#!/usr/bin/env node
// Entry point of the `dlc` command: runs the compiled CLI (npm install builds dist/).
import { main } from '../dist/src/cli.js';

process.exitCode = await main(process.argv.slice(2));
