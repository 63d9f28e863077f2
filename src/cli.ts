/**
 * The `dlc` command line. Each command is a thin shell over the public API;
 * every failure the user can cause ends as a located message and exit code 1.
 */
import { Command, CommanderError } from 'commander';
import { compileFile, selectModel } from './compile.js';
import { CompileError, formatDiagnostic } from './diagnostics.js';
import { printGraph } from './ir/print.js';
import { formatSummary, summarize, summaryJson } from './summary.js';

const color = process.stderr.isTTY && !process.env.NO_COLOR;

function program(): Command {
  const cli = new Command('dlc')
    .description('A compiler for .dl model files: check, summarize, compile, run, train and draw neural networks.')
    .version('0.1.0')
    .exitOverride()
    .showHelpAfterError();

  cli
    .command('check')
    .description('check every model in FILE; exit 0 if well formed, 1 with diagnostics')
    .argument('<file>', '.dl source file')
    .action((file: string) => {
      const compiled = compileFile(file);
      console.log(`${file}: ok (${compiled.graphs.map((g) => g.name).join(', ')})`);
    });

  cli
    .command('summary')
    .description('print each layer of a model with its output shape, parameters and FLOPs')
    .argument('<file>', '.dl source file')
    .option('--model <name>', 'the model to summarize (default: the only or last one)')
    .option('--json', 'print JSON instead of a table')
    .action((file: string, opts: { model?: string; json?: boolean }) => {
      const summary = summarize(selectModel(compileFile(file), opts.model));
      console.log(opts.json ? JSON.stringify(summaryJson(summary), null, 2) : formatSummary(summary));
    });

  cli
    .command('compile')
    .description('compile a model; --emit ir prints the graph IR')
    .argument('<file>', '.dl source file')
    .option('--model <name>', 'the model to compile (default: the only or last one)')
    .option('--emit <what>', 'what to print: ir', 'ir')
    .action((file: string, opts: { model?: string; emit: string }) => {
      const graph = selectModel(compileFile(file), opts.model);
      if (opts.emit !== 'ir') throw new UsageError(`unknown --emit '${opts.emit}' (expected: ir)`);
      console.log(printGraph(graph));
    });

  return cli;
}

/** A mistake in the command line itself. */
export class UsageError extends Error {}

export async function main(argv: string[]): Promise<number> {
  try {
    await program().parseAsync(argv, { from: 'user' });
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 1;
    if (e instanceof CompileError) {
      for (const d of e.diagnostics) console.error(formatDiagnostic(d, color) + '\n');
      const n = e.diagnostics.length;
      console.error(`${n} error${n === 1 ? '' : 's'}`);
      return 1;
    }
    if (e instanceof UsageError) {
      console.error(`error: ${e.message}`);
      return 1;
    }
    // A bug in dlc, not in the input: say so plainly; the stack only on request.
    console.error(`dlc: internal error: ${(e as Error).message ?? e}`);
    if (process.env.DLC_DEBUG) console.error((e as Error).stack);
    return 1;
  }
}
