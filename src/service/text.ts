/**
 * Offsets <-> LSP positions. dlc's spans are offsets into a JavaScript string
 * (UTF-16 code units), which is also LSP's default position encoding, so a
 * column is an offset minus its line's start.
 */
import type { Position, Range } from 'vscode-languageserver-types';

export class LineIndex {
  /** Offset of each line's first character. */
  private starts: number[] = [0];

  constructor(readonly text: string) {
    for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) this.starts.push(i + 1);
  }

  position(offset: number): Position {
    const at = Math.max(0, Math.min(offset, this.text.length));
    let lo = 0, hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid] <= at) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo, character: at - this.starts[lo] };
  }

  /** A position past a line's end (or past the last line) is clamped to it, as LSP requires. */
  offset(p: Position): number {
    if (p.line >= this.starts.length) return this.text.length;
    const start = this.starts[Math.max(0, p.line)];
    const end = p.line + 1 < this.starts.length ? this.starts[p.line + 1] - 1 : this.text.length;
    return Math.min(start + Math.max(0, p.character), end);
  }

  range(start: number, end: number): Range {
    return { start: this.position(start), end: this.position(end) };
  }

  line(offset: number): number {
    return this.position(offset).line;
  }
}
