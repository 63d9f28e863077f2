/**
 * How training reports a user's mistake: located problems (in the .dl file) as
 * CompileError, the rest (a bad CSV row, a diverging run) as TrainError, which
 * the command line prints as `error: <message>` and exits 1.
 */
import { UserError } from '../diagnostics.js';
import { CompileError, Diagnostic } from '../diagnostics.js';

export class TrainError extends UserError {
  override name = 'TrainError';
  constructor(readonly diagnostic: Diagnostic) {
    super(diagnostic);
  }
}

export function fail(d: Diagnostic): never {
  throw d.span ? new CompileError([d]) : new TrainError(d);
}

/** `dlc train` stopped by SIGINT after saving the last completed step's weights: the CLI prints the message and exits 130, as the shell expects of Ctrl-C. */
export class TrainInterrupted extends UserError {
  override name = 'TrainInterrupted';
  readonly exitCode = 130;
}
