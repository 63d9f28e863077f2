/**
 * dlc's formatter as a prettier 3 plugin (`dlc/prettier`), so that
 * `prettier --plugin=dlc/prettier --write model.dl` and editors' prettier
 * integrations format .dl files. The layout is formatSource's: the parser
 * step formats (a syntax error becomes prettier's located error), the printer
 * hands the text back. prettier's printWidth is the width.
 */
import type { Parser, Printer, SupportLanguage } from 'prettier';
import { utils } from 'prettier/doc';
import { lineCol } from '../diagnostics.js';
import { formatSource } from './index.js';

/** What the parser gives the printer: the whole file, formatted. */
interface Formatted {
  type: 'dl-file';
  text: string;
  /** The length of the source, for prettier's range bookkeeping. */
  sourceLength: number;
}

export const languages: SupportLanguage[] = [{ name: 'dl', parsers: ['dl'], extensions: ['.dl'], vscodeLanguageIds: ['dl'] }];

export const parsers: Record<string, Parser<Formatted>> = {
  dl: {
    astFormat: 'dl',
    parse(text, options) {
      const result = formatSource(text, options.filepath ?? 'input.dl', { width: options.printWidth });
      if (!result.ok) {
        const d = result.diagnostics[0];
        // prettier prints `file: SyntaxError: message (line:column)` and a code frame from `loc`.
        throw Object.assign(new SyntaxError(d.message), d.span ? { loc: { start: lineCol(d.span) } } : {});
      }
      return { type: 'dl-file', text: result.text, sourceLength: text.length };
    },
    locStart: () => 0,
    locEnd: (node) => node.sourceLength,
  },
};

export const printers: Record<string, Printer<Formatted>> = {
  dl: {
    print: (path) => utils.replaceEndOfLine(path.node.text),
  },
};

export default { languages, parsers, printers };
