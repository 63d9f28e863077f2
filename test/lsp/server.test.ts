/**
 * `dlc lsp --stdio` driven as an editor drives it (client.ts): open the
 * examples and broken files, edit them, and check what the server answers
 * against what `dlc summary`, `dlc check` and the examples' own comments say.
 */
import { readdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CodeActionRequest,
  CompletionRequest,
  DefinitionRequest,
  DidChangeConfigurationNotification,
  DocumentFormattingRequest,
  DocumentSymbolRequest,
  HoverRequest,
  InlayHintRequest,
  PrepareRenameRequest,
  ReferencesRequest,
  RenameRequest,
  type CompletionItem,
  type DocumentSymbol,
  type Hover,
  type InlayHint,
  type Location,
  type Position,
  type Range,
  type TextEdit,
  type WorkspaceEdit,
} from 'vscode-languageserver-protocol/node';
import { cliSandbox } from '../cli/process.js';
import { example, exampleUri, rangeOf, startClient, type Client } from './client.js';

const { dlc, file } = cliSandbox('dlc-lsp-');

let client: Client;
beforeAll(async () => {
  client = await startClient();
});
afterAll(async () => {
  expect(await client.stop()).toBe(0); // shutdown, then exit: a clean exit
});

const at = (uri: string, text: string, needle: string, nth = 0, within = 0) => {
  const { start } = rangeOf(text, needle, nth);
  return { textDocument: { uri }, position: { line: start.line, character: start.character + within } };
};
const hoverText = async (uri: string, text: string, needle: string, nth = 0) => {
  const h = (await client.connection.sendRequest(HoverRequest.type, at(uri, text, needle, nth))) as Hover | null;
  return h ? (h.contents as { value: string }).value : '';
};

/** Applies LSP edits to a text, last first. */
function applyEdits(text: string, edits: TextEdit[]): string {
  const offset = (p: Position) => text.split('\n').slice(0, p.line).reduce((n, l) => n + l.length + 1, 0) + p.character;
  return [...edits].sort((a, b) => offset(b.range.start) - offset(a.range.start)).reduce((t, e) => t.slice(0, offset(e.range.start)) + e.newText + t.slice(offset(e.range.end)), text);
}

/** `dlc summary --json`'s rows, by layer name. */
function summaryRows(path: string) {
  const r = dlc('summary', '--json', path);
  expect(r.code).toBe(0);
  const rows = JSON.parse(r.stdout).layers as { name: string; op: string; outputShape: (number | null)[]; params: number; flops: number }[];
  return new Map(rows.map((row) => [row.name, row]));
}
const cell = (shape: (number | null)[]) => `(batch, ${shape.slice(1).join(', ')})`;
const grouped = (n: number) => n.toLocaleString('en-US');

describe('diagnostics', () => {
  it('every example opens without problems, as `dlc check` finds none', async () => {
    const names = readdirSync('examples').filter((n) => n.endsWith('.dl'));
    expect(names.length).toBeGreaterThan(20);
    for (const name of names) expect(await client.open(exampleUri(name), example(name)), name).toEqual([]);
  }, 240_000);

  it('a broken file gets the located error `dlc check` prints, with its code and its hint as related information', async () => {
    const text = 'model M {\n  input x: [28, 28, 1]\n  output y = x -> conv2d(8, 3) -> dense(10)\n}\n';
    const path = file('flat.dl', text);
    const cli = dlc('check', path);
    expect(cli.code).toBe(1);
    const [, line, col] = /flat\.dl:(\d+):(\d+): error: (.*)/.exec(cli.stderr)!.map((x, i) => (i === 1 || i === 2 ? Number(x) : x)) as [string, number, number];
    const uri = 'file:///work/flat.dl';
    const [d, ...rest] = await client.open(uri, text);
    expect(rest).toEqual([]);
    expect(d.range.start).toEqual({ line: line - 1, character: col - 1 });
    expect(d.range).toEqual(rangeOf(text, 'dense(10)'));
    expect(d).toMatchObject({ severity: 1, code: 'shape', source: 'dlc', message: 'dense: expects a [features] or [steps, features] input, got [26, 26, 8]' });
    expect(d.relatedInformation).toEqual([{ location: { uri, range: d.range }, message: 'hint: insert flatten before dense' }]);

    // The quick fix inserts the flatten, and the file then checks.
    const actions = (await client.connection.sendRequest(CodeActionRequest.type, { textDocument: { uri }, range: d.range, context: { diagnostics: [d] } })) as { title: string; edit: WorkspaceEdit }[];
    expect(actions.map((a) => a.title)).toEqual(['Insert flatten before dense']);
    const fixed = applyEdits(text, actions[0].edit.changes![uri]);
    expect(fixed).toContain('-> conv2d(8, 3) -> flatten -> dense(10)');
    expect(dlc('check', file('flat-fixed.dl', fixed)).code).toBe(0);
    expect(await client.edit(uri, actions[0].edit.changes![uri][0].range, actions[0].edit.changes![uri][0].newText)).toEqual([]);
  });

  it("a did-you-mean hint is a quick fix that replaces the misspelled name", async () => {
    const text = 'model M {\n  input x: [28, 28, 1]\n  output y = x -> conv2d(8, 3, paddin = same) -> flaten -> dense(10)\n}\n';
    const uri = 'file:///work/typo.dl';
    const ds = await client.open(uri, text);
    expect(ds.map((d) => [d.code, d.message, d.relatedInformation?.[0].message])).toEqual([
      ['unknown-arg', "conv2d: unknown argument 'paddin'", "hint: did you mean 'padding'?"],
      ['unknown-op', "unknown op or block 'flaten'", "hint: did you mean 'flatten'?"],
    ]);
    expect(ds[0].range).toEqual(rangeOf(text, 'paddin'));
    const edits: TextEdit[] = [];
    for (const d of ds) {
      const actions = (await client.connection.sendRequest(CodeActionRequest.type, { textDocument: { uri }, range: d.range, context: { diagnostics: [d] } })) as { title: string; edit: WorkspaceEdit }[];
      expect(actions).toHaveLength(1);
      edits.push(...actions[0].edit.changes![uri]);
    }
    expect(edits.map((e) => e.newText)).toEqual(['padding', 'flatten']);
    const fixed = applyEdits(text, edits);
    expect(fixed).toContain('conv2d(8, 3, padding = same) -> flatten -> dense(10)');
    expect(dlc('check', file('typo-fixed.dl', fixed)).code).toBe(0);
  });

  it("a train section's mistakes are reported as `dlc train` reports them, before any run", async () => {
    const text = 'model M {\n  input x: [2]\n  output y = x -> dense(1)\n}\ntrain M {\n  data = xor\n  loss = mse\n  optimizer = sgd(lr = 0.1, momentu = 0.9)\n  epoch = 3\n}\n';
    const path = file('train-typos.dl', text);
    const train = dlc('train', path, '-o', file('w.safetensors', ''));
    expect(train.code).toBe(1);
    const located = [...train.stderr.matchAll(/train-typos\.dl:(\d+):(\d+): error: (.*)/g)].map((m) => ({ line: +m[1] - 1, character: +m[2] - 1, message: m[3] }));
    expect(located.map((l) => l.message)).toEqual(["sgd: unknown argument 'momentu'", "train: unknown setting 'epoch'"]);
    // dlc check finds the same, and so does the editor, each with its fix.
    expect(dlc('check', path).stderr).toBe(train.stderr);
    const uri = 'file:///work/train-typos.dl';
    const published = await client.open(uri, text);
    expect(published.map((d) => ({ ...d.range.start, message: d.message }))).toEqual(located);
    const actions = (await client.connection.sendRequest(CodeActionRequest.type, { textDocument: { uri }, range: published[1].range, context: { diagnostics: [published[1]] } })) as { title: string; edit: WorkspaceEdit }[];
    expect(actions.map((a) => a.title)).toEqual(["Change 'epoch' to 'epochs'"]);
    const fixed = applyEdits(applyEdits(text, actions[0].edit.changes![uri]), [{ range: rangeOf(text, 'momentu'), newText: 'momentum' }]);
    expect(dlc('check', file('train-fixed.dl', fixed)).code).toBe(0);
    await client.close(uri);
  });

  it('diagnostics follow edits: an edit that breaks the file reports it, one that mends it clears it', async () => {
    const text = example('mlp.dl');
    const uri = 'file:///work/edited.dl';
    expect(await client.open(uri, text)).toEqual([]);
    const arrow = rangeOf(text, '->');
    const broken = await client.edit(uri, arrow, '-> ?');
    expect(broken).toHaveLength(1);
    expect(broken[0]).toMatchObject({ code: 'syntax' });
    const path = file('edited.dl', applyEdits(text, [{ range: arrow, newText: '-> ?' }]));
    const [, line, col, message] = /edited\.dl:(\d+):(\d+): error: (.*)/.exec(dlc('check', path).stderr)!;
    expect(broken[0].range.start).toEqual({ line: Number(line) - 1, character: Number(col) - 1 });
    expect(broken[0].message).toBe(message);
    // Requests on a file that does not parse answer nothing, and the server stays up.
    expect(await client.connection.sendRequest(HoverRequest.type, at(uri, text, 'dense'))).toBeNull();
    expect(await client.connection.sendRequest(InlayHintRequest.type, { textDocument: { uri }, range: { start: { line: 0, character: 0 }, end: { line: 99, character: 0 } } })).toEqual([]);
    expect(await client.edit(uri, { start: arrow.start, end: { line: arrow.start.line, character: arrow.start.character + 4 } }, '->')).toEqual([]);
  });

  it('closing a document clears its diagnostics', async () => {
    const uri = 'file:///work/closed.dl';
    expect(await client.open(uri, 'model M {\n  input x: [4]\n  output y = x -> dens(3)\n}\n')).toHaveLength(1);
    expect(await client.close(uri)).toEqual([]);
  });
});

describe('hover', () => {
  const uri = exampleUri('mnist_convnet.dl');
  const text = example('mnist_convnet.dl');
  const rows = summaryRows('examples/mnist_convnet.dl');

  it("on a layer: its op, input and output shapes, parameters and FLOPs as `dlc summary` lists them, and the op's documentation", async () => {
    const value = await hoverText(uri, text, 'conv2d(64');
    const row = rows.get('conv2d_1')!;
    const input = rows.get('max_pooling2d') ?? rows.get('maxpool')!;
    expect(value).toContain('**layer** `conv2d_1` (conv2d)');
    expect(value).toContain(`- input: \`${cell(input.outputShape)}\``);
    expect(value).toContain(`- output: \`${cell(row.outputShape)}\``);
    expect(value).toContain(`- params: ${grouped(row.params)}\n`);
    expect(value).toContain(`- FLOPs: ${grouped(row.flops)}\n`);
    expect(value).toContain('`filters = 64`, `kernel = 3`');
    expect(value).toContain('**conv2d** — 2-D convolution');
    expect(value).toContain('| `padding` | `valid` \\| `same` | `valid` |');
    // The same for a stage written as a bare op name.
    const relu = await hoverText(uri, text, 'relu', 1);
    expect(relu).toContain(`**layer** \`relu_1\` (relu)\n\n- input: \`${cell(rows.get('conv2d_1')!.outputShape)}\``);
  });

  it("on a model's name: its parameter count, the Keras figure the example quotes", async () => {
    expect(text).toContain('34,826 parameters');
    expect(await hoverText(uri, text, 'MnistConvNet')).toContain('34,826 params');
  });

  it('on a name: where it is defined', async () => {
    expect(await hoverText(uri, text, 'classes', 1)).toBe('**const** `classes = 10` — defined on line 4');
  });

  it("on a value: its shape; on a block call: each instance's parameters", async () => {
    const ruri = exampleUri('residual.dl');
    const rtext = example('residual.dl');
    const rrows = summaryRows('examples/residual.dl');
    expect(await hoverText(ruri, rtext, 'stem', 1)).toContain(`**value** \`stem\`: \`${cell(rrows.get('relu')!.outputShape)}\` — defined on line 12`);
    const block = await hoverText(ruri, rtext, 'residual(16)');
    const perInstance = rrows.get('conv2d')!.params + rrows.get('conv2d_1')!.params;
    expect(block.split('\n').filter((l) => l.includes(`| ${grouped(perInstance)} |`))).toHaveLength(3); // repeat(3, ...)
    expect(block).toContain('**block** `residual(channels, kernel = 3)`');
    // A line inside the block: one layer per instance.
    const inner = await hoverText(ruri, rtext, 'add(x, h)');
    expect(inner).toContain('**3 layers** (add), one per instance');
  });

  it('on `repeat`: its copies, each with its parameters, and their total as `dlc summary` counts them', async () => {
    const ruri = exampleUri('residual.dl');
    const rtext = example('residual.dl');
    const rrows = summaryRows('examples/residual.dl');
    const text = await hoverText(ruri, rtext, 'repeat');
    const inBlock = [...rrows.values()].filter((r) => /^conv2d(_\d+)?$/.test(r.name));
    const copies = inBlock.reduce((n, r) => n + r.params, 0);
    expect(text).toContain(`3 copies in all · ${grouped(copies)} params`);
    expect(text.split('\n').filter((l) => /^\| residual(_\d)? \|/.test(l))).toHaveLength(3);
  });

  it("on an op's argument name: its documentation", async () => {
    expect(await hoverText(uri, text, 'kernel')).toBe('`conv2d` argument `kernel`: int, list of ints, or a constant tensor\n\nwindow size, or a constant tensor of fixed weights');
  });
});

describe('completion', () => {
  const uri = 'file:///work/complete.dl';
  const base = 'const width = 64\n\nmodel M {\n  input x: [28, 28, 1]\n  h = x -> conv2d(8, 3) as first\n  output y = h -> flatten -> dense(width)\n}\n';
  beforeAll(async () => {
    expect(await client.open(uri, base)).toEqual([]);
  });

  /** Completions at the end of `line` inserted before the model's closing brace (the document keeps its last parsed names). */
  async function complete(line: string): Promise<CompletionItem[]> {
    const lines = base.split('\n');
    const closing = lines.indexOf('}');
    const edited = [...lines.slice(0, closing), line, ...lines.slice(closing)].join('\n');
    const range = { start: { line: 0, character: 0 }, end: { line: lines.length, character: 0 } };
    await client.edit(uri, range, edited);
    return (await client.connection.sendRequest(CompletionRequest.type, { textDocument: { uri }, position: { line: closing, character: line.length } })) as CompletionItem[];
  }
  const labels = (items: CompletionItem[]) => items.map((i) => i.label);

  it('inside a call: the argument names not given yet, with their documentation', async () => {
    const items = await complete('  z = x -> conv2d(16, 3, stride = 2, ');
    expect(labels(items)).toEqual(expect.arrayContaining(['padding =', 'dilation =', 'activation =']));
    expect(labels(items)).not.toContain('stride =');
    expect(items.find((i) => i.label === 'padding =')).toMatchObject({ insertText: 'padding = ', documentation: expect.stringContaining("'same'") });
  });

  it("after an argument's `=`: its choices", async () => {
    expect(labels(await complete('  z = x -> conv2d(16, 3, padding = '))).toEqual(['valid', 'same']);
    expect(labels(await complete('  z = x -> dense(4, bias = '))).toEqual(['true', 'false']);
  });

  it('right of `->`: ops with their documentation and layers, no values', async () => {
    const items = await complete('  z = x -> ');
    expect(labels(items)).toEqual(expect.arrayContaining(['conv2d', 'lstm', 'relu', 'repeat', 'first']));
    expect(labels(items)).not.toContain('h');
    expect(labels(items)).not.toContain('input'); // internal ops are not callable
    expect((items.find((i) => i.label === 'dense')!.documentation as { value: string }).value).toContain('| `units` (positional) | int | required |');
  });

  it('elsewhere in a body: names in scope, constants and statement keywords', async () => {
    const items = labels(await complete('  '));
    expect(items).toEqual(expect.arrayContaining(['x', 'h', 'y', 'width', 'input', 'output', 'dense']));
  });

  it('at top level: snippets for model, block, train and const', async () => {
    const text = base + '\n';
    await client.edit(uri, { start: { line: 0, character: 0 }, end: { line: 99, character: 0 } }, text);
    const items = (await client.connection.sendRequest(CompletionRequest.type, { textDocument: { uri }, position: { line: text.split('\n').length - 1, character: 0 } })) as CompletionItem[];
    expect(labels(items)).toEqual(['model', 'block', 'train', 'const']);
    expect(items[0]).toMatchObject({ insertTextFormat: 2, insertText: expect.stringContaining('model ${1:Name} {') });
  });
});

describe('completion in a train section', () => {
  const uri = 'file:///work/train-complete.dl';
  const base = 'const rate = 0.05\n\nmodel M {\n  input x: [2]\n  output y = x -> dense(1)\n}\n\ntrain M {\n  data = xor\n  loss = mse\n\n  epochs = 3\n}\n';
  const cursorLine = base.split('\n').indexOf('', 9);
  beforeAll(async () => {
    expect(await client.open(uri, base)).toEqual([]);
  });
  async function complete(line: string): Promise<string[]> {
    const lines = base.split('\n');
    lines[cursorLine] = line;
    await client.edit(uri, { start: { line: 0, character: 0 }, end: { line: lines.length, character: 0 } }, lines.join('\n'));
    const items = (await client.connection.sendRequest(CompletionRequest.type, { textDocument: { uri }, position: { line: cursorLine, character: line.length } })) as CompletionItem[];
    return items.map((i) => i.label);
  }
  /** What `dlc check` lists as the choices after a wrong value (its hint, `expected one of 'a', 'b'`). */
  function choicesOf(setting: string): string[] {
    const { file: write } = cliSandbox('dlc-lsp-train-');
    const r = dlc('check', write('t.dl', base.replace(setting === 'loss' ? '  loss = mse' : '  epochs = 3', `  ${setting} = nonsense`)));
    expect(r.code).toBe(1);
    return [.../hint: expected one of ([^\n]*)/.exec(r.stderr)![1].matchAll(/'([^']+)'/g)].map((m) => m[1]);
  }

  it('at a line start: the settings `dlc check` knows, less those already given', async () => {
    const r = dlc('check', file('unknown-setting.dl', base.replace('  epochs = 3', '  zzz = 3')));
    const known = [.../settings are ([^\n]*)/.exec(r.stderr)![1].matchAll(/'([^']+)'/g)].map((m) => m[1]);
    expect(known).toContain('weight_decay');
    expect(await complete('  ')).toEqual(known.filter((k) => !['data', 'loss', 'epochs'].includes(k)));
  });

  it("after `setting =`: that setting's choices, as `dlc check` lists them", async () => {
    expect(await complete('  loss = ')).toEqual(choicesOf('loss'));
    expect(await complete('  optimizer = ')).toEqual(choicesOf('optimizer'));
    expect(await complete('  optimizer = ad')).toEqual(choicesOf('optimizer')); // the client filters by the word typed
  });

  it('inside an optimizer or data call: its parameters not given yet; after their `=`, constants', async () => {
    expect(await complete('  optimizer = adam(beta1 = 0.8, ')).toEqual(['lr =', 'beta2 =', 'epsilon =', 'rate']); // a constant fits a positional argument
    expect(await complete('  optimizer = sgd(lr = ')).toEqual(['rate']);
    // Every name offered is one `dlc check` accepts.
    const lines = base.split('\n');
    lines[cursorLine] = '  optimizer = adam(lr = rate, beta1 = 0.8, beta2 = 0.99, epsilon = 1e-6)';
    expect(dlc('check', file('train-completed.dl', lines.join('\n'))).code).toBe(0);
  });
});

describe('definition, references and rename', () => {
  const uri = exampleUri('residual.dl');
  const text = example('residual.dl');

  it('go to definition: a value, a block, a constant, a block parameter', async () => {
    const def = async (needle: string, nth: number) => (await client.connection.sendRequest(DefinitionRequest.type, at(uri, text, needle, nth))) as Location;
    expect((await def('stem', 1)).range).toEqual(rangeOf(text, 'stem', 0));
    expect((await def('residual', 2)).range).toEqual(rangeOf(text, 'residual', 1)); // `# A small residual network`, then the block's name
    expect((await def('channels', 1)).range).toEqual(rangeOf(text, 'channels'));
    const m = exampleUri('mnist_convnet.dl');
    const mtext = example('mnist_convnet.dl');
    const c = (await client.connection.sendRequest(DefinitionRequest.type, at(m, mtext, 'classes', 1))) as Location;
    expect(c).toEqual({ uri: m, range: rangeOf(mtext, 'classes') });
    // An op has no definition in the file.
    expect(await client.connection.sendRequest(DefinitionRequest.type, at(uri, text, 'conv2d'))).toBeNull();
  });

  it('find references: every use, with or without the definition', async () => {
    // `kernel = 3` in the block's header, then the values of `kernel = kernel` twice (the argument names are conv2d's).
    const refs = (await client.connection.sendRequest(ReferencesRequest.type, { ...at(uri, text, 'kernel', 2), context: { includeDeclaration: true } })) as Location[];
    expect(refs).toEqual([0, 2, 4].map((nth) => ({ uri, range: rangeOf(text, 'kernel', nth) })));
    const noDecl = (await client.connection.sendRequest(ReferencesRequest.type, { ...at(uri, text, 'kernel', 2), context: { includeDeclaration: false } })) as Location[];
    expect(noDecl).toHaveLength(2);
  });

  it('rename: a block, a value and a parameter; the renamed file still checks and summarizes the same', async () => {
    const uri = 'file:///work/residual-copy.dl';
    expect(await client.open(uri, text)).toEqual([]);
    let renamed = text;
    for (const [needle, nth, name] of [['residual', 1, 'res_block'], ['stem', 0, 'trunk'], ['channels', 0, 'width']] as const) {
      const current = renamed;
      const prepared = (await client.connection.sendRequest(PrepareRenameRequest.type, at(uri, current, needle, nth))) as { range: Range; placeholder: string };
      expect(prepared).toEqual({ range: rangeOf(current, needle, nth), placeholder: needle });
      const edit = (await client.connection.sendRequest(RenameRequest.type, { ...at(uri, current, needle, nth), newName: name })) as WorkspaceEdit;
      renamed = applyEdits(current, edit.changes![uri]);
      await client.edit(uri, { start: { line: 0, character: 0 }, end: { line: 999, character: 0 } }, renamed);
    }
    expect(renamed).toContain('block res_block(width, kernel = 3)');
    expect(renamed).toContain('output logits = trunk -> repeat(3, res_block(16))');
    expect(renamed).toContain('conv2d(width, kernel = kernel');
    expect(renamed).toContain('# A small residual network'); // comments are not names
    const before = dlc('summary', 'examples/residual.dl').stdout;
    const after = dlc('summary', file('renamed.dl', renamed));
    expect(after.code).toBe(0);
    expect(after.stdout).toBe(before);
  });

  it("renaming a block's parameter renames it where a call names it, and a misspelled value gets its fix", async () => {
    const btext = 'block head(units, act = relu) {\n  input x\n  output x -> dense(units, activation = act)\n}\n\nmodel M {\n  input x: [4]\n  h = x -> head(units = 3)\n  output y = hh -> head(act = softmax, units = 2)\n}\n';
    const u = 'file:///work/params.dl';
    const [d] = await client.open(u, btext);
    expect(d).toMatchObject({ code: 'unknown-name', range: rangeOf(btext, 'hh'), relatedInformation: [{ message: "hint: did you mean 'h'?" }] });
    const [fix] = (await client.connection.sendRequest(CodeActionRequest.type, { textDocument: { uri: u }, range: d.range, context: { diagnostics: [d] } })) as { edit: WorkspaceEdit }[];
    const fixed = applyEdits(btext, fix.edit.changes![u]);
    expect(await client.edit(u, { start: { line: 0, character: 0 }, end: { line: 99, character: 0 } }, fixed)).toEqual([]);
    const edit = (await client.connection.sendRequest(RenameRequest.type, { ...at(u, fixed, 'units'), newName: 'width' })) as WorkspaceEdit;
    expect(edit.changes![u].map((e) => e.range)).toEqual([0, 1, 2, 3].map((nth) => rangeOf(fixed, 'units', nth)));
    const renamed = applyEdits(fixed, edit.changes![u]);
    expect(renamed).toContain('head(width = 3)');
    expect(renamed).toContain('head(act = softmax, width = 2)');
    expect(dlc('summary', file('params.dl', renamed)).stdout).toBe(dlc('summary', file('params-before.dl', fixed)).stdout);
  });

  it("rename refuses ops and keywords as new names, and an op's name is not renamable", async () => {
    const utext = 'model M {\n  input x: [4]\n  h = x -> dense(3)\n  output y = h -> relu\n}\n';
    const u = 'file:///work/rename.dl';
    expect(await client.open(u, utext)).toEqual([]);
    await expect(client.connection.sendRequest(RenameRequest.type, { ...at(u, utext, 'M'), newName: 'dense' })).rejects.toThrow("'dense' is an op's name");
    await expect(client.connection.sendRequest(RenameRequest.type, { ...at(u, utext, 'h', 0), newName: 'input' })).rejects.toThrow("'input' cannot be a name");
    await expect(client.connection.sendRequest(RenameRequest.type, { ...at(u, utext, 'h', 0), newName: 'x' })).rejects.toThrow("'x' is already defined here");
    expect(await client.connection.sendRequest(PrepareRenameRequest.type, at(u, utext, 'dense'))).toBeNull();
  });
});

describe('document symbols and inlay hints', () => {
  it('the outline lists blocks and models with their inputs, values, outputs and named layers', async () => {
    const symbols = (await client.connection.sendRequest(DocumentSymbolRequest.type, { textDocument: { uri: exampleUri('residual.dl') } })) as DocumentSymbol[];
    const outline = symbols.map((s) => [s.name, s.detail, (s.children ?? []).map((c) => `${c.name}${c.detail ? ` ${c.detail}` : ''}`)]);
    expect(outline).toEqual([
      ['residual', '(channels, kernel)', ['x', 'h [32, 32, 16]']], // a block's value has its instances' shape
      ['TinyResNet', undefined, ['image [32, 32, 3]', 'stem [32, 32, 16]', 'stem_conv layer', 'logits [10]']],
    ]);
  });

  const uri = exampleUri('mnist_convnet.dl');
  const text = example('mnist_convnet.dl');
  const all = { start: { line: 0, character: 0 }, end: { line: 99, character: 0 } };

  it("a hint after each line of a chain: that stage's output shape, as `dlc summary` lists it", async () => {
    const hints = (await client.connection.sendRequest(InlayHintRequest.type, { textDocument: { uri }, range: all })) as InlayHint[];
    const rows = summaryRows('examples/mnist_convnet.dl');
    // The last layer of each line: relu, maxpool, relu, maxpool, flatten, dropout, softmax.
    const lastOfLine = text.split('\n').filter((l) => /^\s*->/.test(l)).map((l) => /(\w+)(\([^)]*\))?\s*$/.exec(l)![1]);
    expect(lastOfLine).toEqual(['relu', 'maxpool', 'relu', 'maxpool', 'flatten', 'dropout', 'softmax']);
    // Each line's last layer is the next summary row (in layer order) with that op.
    const layers = [...rows.values()];
    const expected: string[] = [];
    let next = 0;
    for (const op of lastOfLine) {
      while (layers[next].op !== op) next++;
      expected.push(`: [${layers[next].outputShape.slice(1).join(', ')}]`);
      next++;
    }
    expect(hints.map((h) => h.label)).toEqual(expected);
    expect(hints[0].position).toEqual(rangeOf(text, '-> relu').end);
  });

  it('hints turn off with the dlc.inlayHints setting, and on again', async () => {
    const ask = async () => ((await client.connection.sendRequest(InlayHintRequest.type, { textDocument: { uri }, range: all })) as InlayHint[]).length;
    await client.connection.sendNotification(DidChangeConfigurationNotification.type, { settings: { dlc: { inlayHints: false } } });
    expect(await ask()).toBe(0);
    await client.connection.sendNotification(DidChangeConfigurationNotification.type, { settings: { dlc: { inlayHints: true } } });
    expect(await ask()).toBe(7);
  });

  it('hints are off from the start with initializationOptions.inlayHints = false', async () => {
    const other = await startClient({ inlayHints: false });
    expect(await other.open(uri, text)).toEqual([]);
    expect(await other.connection.sendRequest(InlayHintRequest.type, { textDocument: { uri }, range: all })).toEqual([]);
    expect(await other.stop()).toBe(0);
  });
});

describe('formatting', () => {
  it("gives `dlc fmt`'s text as one edit: a crumpled example comes back as written", async () => {
    const text = example('mnist_train.dl');
    // Spaces squeezed out of the code, comments kept as they are.
    const crumpled = text.split('\n').map((l) => (l.includes('#') ? l : l.replaceAll(' -> ', '->').replaceAll(' = ', '=').replaceAll(', ', ','))).join('\n');
    expect(crumpled).not.toBe(text);
    const uri = exampleUri('crumpled.dl');
    expect(await client.open(uri, crumpled)).toEqual([]);
    const edits = (await client.connection.sendRequest(DocumentFormattingRequest.type, { textDocument: { uri }, options: { tabSize: 2, insertSpaces: true } })) as TextEdit[];
    expect(edits).toHaveLength(1);
    expect(applyEdits(crumpled, edits)).toBe(text);
    const path = file('crumpled.dl', crumpled);
    expect(dlc('fmt', path).stdout).toBe(text); // the CLI's formatter, as a process
    // Formatted text needs no edit.
    await client.edit(uri, { start: { line: 0, character: 0 }, end: { line: 999, character: 0 } }, text);
    expect(await client.connection.sendRequest(DocumentFormattingRequest.type, { textDocument: { uri }, options: { tabSize: 2, insertSpaces: true } })).toEqual([]);
  });

  it('leaves a file with a syntax error alone (its diagnostic says why)', async () => {
    const uri = exampleUri('broken-fmt.dl');
    const broken = example('mlp.dl').replace('->', '-> (');
    expect((await client.open(uri, broken)).length).toBeGreaterThan(0);
    expect(await client.connection.sendRequest(DocumentFormattingRequest.type, { textDocument: { uri }, options: { tabSize: 2, insertSpaces: true } })).toEqual([]);
  });
});
