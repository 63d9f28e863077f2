/**
 * The web playground in real headless Chromium (Debian's `chromium`, driven by
 * puppeteer-core): the site is built once (scripts/build-playground.js), served
 * over HTTP with COOP/COEP, and checked against dlc in Node: every example's
 * diagram has the node count Node's rendering of the same model has, and its
 * summary is `dlc summary`'s; errors appear located where the compiler locates
 * them and go away when fixed; share links restore the state, broken ones fall
 * back to the default example and say why. The edit-to-diagram latency on a
 * 200-line model is measured and printed (not asserted: the machine is shared).
 *
 * CHROMIUM names another browser binary; .ci/run installs Debian's when missing.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileSource, selectModel } from '../../src/compile.js';
import { CompileError, lineCol } from '../../src/diagnostics.js';
import { DEFAULT_DIAGRAM_OPTIONS, renderDiagram } from '../../src/backends/dot/index.js';
import { formatSummary, grouped, summarize } from '../../src/summary.js';
import { callableOps } from '../../src/ops/index.js';
import { loadWeights } from '../../src/backends/interp/weights.js';
import { Interpreter } from '../../src/backends/interp/index.js';
import { tensor } from '../../src/backends/interp/tensor.js';
import { printGraph } from '../../src/ir/print.js';
import { optimize } from '../../src/passes/pipeline.js';
import { emitTfjs } from '../../src/backends/tfjs/index.js';
import { encodeState } from '../../playground/src/share.js';
import { createRng } from '../../src/runtime/random.js';
import { decodeSafetensors } from '../../src/runtime/safetensors.js';
import { expectClose } from '../backends/interp/helpers.js';
import { cliSandbox } from '../cli/process.js';
// @ts-expect-error: a plain JavaScript build script, without type declarations
import { buildPlayground, serve } from '../../scripts/build-playground.js';

const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const EXAMPLES = readdirSync('examples').filter((f) => f.endsWith('.dl')).sort();
/** Where screenshots go; DLC_PLAYGROUND_SCREENSHOT=out/playground.png also saves the README's picture. */
const SHOTS = join(tmpdir(), 'dlc-playground-shots');

interface TrainedProbe {
  error?: string;
  epoch: number;
  batch: number;
  batches: number;
  history: { epoch: number; loss: number; accuracy: number | null; testLoss: number | null; testAccuracy: number | null }[];
}

interface Probe {
  training: boolean;
  trained?: TrainedProbe;
  digit?: { pixels: number[]; output?: number[]; error?: string };
  running: boolean;
  outputs?: Record<string, unknown>;
  run?: { kernels: string; chunksByThread: number[] };
  reply?: { diagnostics: { message: string; line?: number; column?: number }[]; model?: string; totalParams?: number; svg?: string; note?: string; ms: { compile: number; check: number; diagram: number } };
  latencies: number[];
  shown: number;
  source: string;
  pending: number;
}

let browser: Browser;
let server: Server;
let base: string;
/** The same site served without COOP/COEP: not cross-origin isolated, as most static hosting serves it. */
let plainServer: Server;
let plainBase: string;

beforeAll(async () => {
  const dir: string = await buildPlayground({ quiet: true });
  const served: { server: Server; port: number } = await serve(dir, 0);
  server = served.server;
  base = `http://127.0.0.1:${served.port}/`;
  const plain: { server: Server; port: number } = await serve(dir, 0, { isolated: false });
  plainServer = plain.server;
  plainBase = `http://127.0.0.1:${plain.port}/`;
  // Chromium refuses its sandbox to root (containers, CI).
  browser = await puppeteer.launch({ executablePath: CHROMIUM, args: process.getuid?.() === 0 ? ['--no-sandbox'] : [] });
  mkdirSync(SHOTS, { recursive: true });
}, 300_000);

afterAll(async () => {
  await browser?.close();
  server?.close();
  plainServer?.close();
});

async function open(fragment = '', site = base): Promise<Page> {
  const page = await browser.newPage();
  await page.setViewport({ width: 1400, height: 850 });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(site + fragment);
  await settled(page);
  expect(errors).toEqual([]);
  return page;
}

/** Waits until the page shows the compiler's answer to its newest source. */
async function settled(page: Page, timeout = 120_000): Promise<Probe> {
  await page.waitForFunction(() => {
    const p = (window as unknown as { playground?: Probe }).playground;
    return p !== undefined && p.shown > 0 && p.pending === 0;
  }, { timeout, polling: 20 });
  return page.evaluate(() => (window as unknown as { playground: Probe }).playground);
}

const nodesInPage = (page: Page) => page.$$eval('#diagram-view svg g.node', (nodes) => nodes.length);
const nodesInSvg = (svg: string) => svg.match(/<g id="[^"]*" class="node"/g)?.length ?? 0;
const messagesInPage = (page: Page) => page.$$eval('#messages li', (items) => items.map((li) => li.textContent ?? ''));

/** The diagram `dlc diagram` draws by default, the summary `dlc summary` prints, of the file's last model. */
async function inNode(text: string, path: string) {
  const graph = selectModel(compileSource({ path, text }));
  const svg = (await renderDiagram(graph, { ...DEFAULT_DIAGRAM_OPTIONS, format: 'svg' })) as string;
  const summary = summarize(graph);
  return { model: graph.name, nodes: nodesInSvg(svg), summary: formatSummary(summary), totalParams: summary.totalParams };
}

describe('the playground in Chromium', () => {
  it('shows every example: the diagram has the nodes Node draws, the summary is dlc summary', async () => {
    const page = await open();
    for (const file of EXAMPLES) {
      const name = basename(file, '.dl');
      const text = readFileSync(join('examples', file), 'utf8');
      await page.select('#examples', name);
      const probe = await settled(page);
      expect(probe.source, file).toBe(text);
      expect(probe.reply?.diagnostics, file).toEqual([]);
      const expected = await inNode(text, file);
      expect(probe.reply?.model, file).toBe(expected.model);
      expect(await nodesInPage(page), file).toBe(expected.nodes);
      expect(expected.nodes, file).toBeGreaterThan(0);
      expect(await page.$eval('#summary-view', (e) => e.textContent), file).toBe(expected.summary);
      expect(await page.$eval('#summary-view', (e) => Number((e as HTMLElement).dataset.totalParams)), file).toBe(expected.totalParams);
    }
    await page.screenshot({ path: join(SHOTS, 'last-example.png') });
    await page.close();
  }, 600_000);

  it('underlines an error where the compiler locates it, with its hint, and clears it once fixed', async () => {
    const page = await open();
    const before = (await settled(page)).source;
    await page.click('.cm-content');
    await page.keyboard.down('Control');
    await page.keyboard.press('End');
    await page.keyboard.up('Control');
    await page.keyboard.type('oops');
    const broken = await settled(page);
    expect(broken.source).toBe(`${before}oops`);
    // What the compiler says in Node about the same text.
    let expected: { message: string; line: number; column: number } | undefined;
    try {
      compileSource({ path: 'x.dl', text: broken.source });
    } catch (e) {
      const d = (e as CompileError).diagnostics[0];
      expected = { message: d.message, ...lineCol(d.span!) };
    }
    expect(expected).toBeDefined();
    expect(broken.reply?.diagnostics[0]).toMatchObject(expected!);
    const shown = await messagesInPage(page);
    expect(shown[0]).toContain(`line ${expected!.line}:${expected!.column}`);
    expect(shown[0]).toContain(expected!.message);
    expect(await page.$$eval('.cm-lintRange-error', (e) => e.length)).toBeGreaterThan(0);
    await page.screenshot({ path: join(SHOTS, 'error.png') });

    for (let i = 0; i < 'oops'.length; i++) await page.keyboard.press('Backspace');
    const fixed = await settled(page);
    expect(fixed.source).toBe(before);
    expect(fixed.reply?.diagnostics).toEqual([]);
    expect(await page.$$eval('#messages li.error', (e) => e.length)).toBe(0);
    expect(await page.$$eval('.cm-lintRange-error', (e) => e.length)).toBe(0);
    await page.close();
  }, 300_000);

  it('restores the source, model, view options and panel from a share link in a new page', async () => {
    const page = await open();
    await page.select('#examples', 'seq2seq');
    await settled(page);
    await page.select('#detail', 'layers');
    await page.select('#theme', 'dark');
    await page.select('#direction', 'TB');
    await settled(page);
    await page.click('#tab-ir');
    const state = await page.evaluate(() => ({
      source: (window as unknown as { playground: Probe }).playground.source,
      model: (document.getElementById('model') as HTMLSelectElement).value,
      options: ['detail', 'theme', 'fit', 'direction'].map((id) => (document.getElementById(id) as HTMLSelectElement).value),
      nodes: document.querySelectorAll('#diagram-view svg g.node').length,
      link: location.href,
    }));
    expect(state.options).toEqual(['layers', 'dark', '16:9', 'TB']);
    const copy = await browser.newPage();
    await copy.goto(state.link);
    const probe = await settled(copy);
    expect(probe.source).toBe(state.source);
    expect(probe.source).toBe(readFileSync('examples/seq2seq.dl', 'utf8'));
    expect(await copy.$eval('#model', (e) => (e as HTMLSelectElement).value)).toBe(state.model);
    expect(await copy.$$eval('#detail, #theme, #fit, #direction', (es) => es.map((e) => (e as HTMLSelectElement).value))).toEqual(state.options);
    expect(await copy.$eval('#panel-ir', (e) => (e as HTMLElement).hidden)).toBe(false);
    expect(await copy.$eval('#panel-diagram', (e) => (e as HTMLElement).hidden)).toBe(true);
    expect(await nodesInPage(copy)).toBe(state.nodes);
    // The IR panel: dlc compile --emit ir at --opt 0 and at the default level.
    const graph = selectModel(compileSource({ path: 'seq2seq.dl', text: probe.source }), state.model);
    await copy.waitForFunction(() => document.getElementById('ir-after')!.textContent !== '');
    expect(await copy.$eval('#ir-before', (e) => e.textContent)).toBe(printGraph(graph));
    expect(await copy.$eval('#ir-after', (e) => e.textContent)).toBe(printGraph(optimize(graph).graph));
    await Promise.all([page.close(), copy.close()]);
  }, 300_000);

  it('shows the TensorFlow.js module dlc compile --target tfjs writes (Prettier in the page, as in Node)', async () => {
    const page = await open();
    await page.select('#examples', 'squeeze_excite');
    await page.click('#tab-tfjs');
    const probe = await settled(page);
    await page.waitForFunction(() => document.getElementById('tfjs-view')!.textContent !== '');
    const graph = selectModel(compileSource({ path: 'squeeze_excite.dl', text: probe.source }));
    const expected = await emitTfjs(optimize(graph).graph, { sourcePath: 'playground.dl' });
    expect(await page.$eval('#tfjs-view', (e) => e.textContent)).toBe(expected);
    await page.screenshot({ path: join(SHOTS, 'tfjs.png') });
    await page.close();
  }, 300_000);

  it('opens the default example from a malformed link and says why', async () => {
    for (const fragment of ['#v1.not-a-model', '#v1.!!!', '#something-else']) {
      const page = await open(fragment);
      const probe = await settled(page);
      expect(probe.source, fragment).toBe(readFileSync('examples/residual.dl', 'utf8'));
      expect(probe.reply?.diagnostics).toEqual([]);
      const shown = await messagesInPage(page);
      expect(shown.some((m) => m.startsWith('the share link could not be opened:') && m.includes('Showing the residual example instead')), `${fragment}: ${shown}`).toBe(true);
      if (fragment === '#v1.!!!') await page.screenshot({ path: join(SHOTS, 'bad-link.png') });
      await page.close();
    }
  }, 300_000);

  it('runs a model on given, uploaded-as-text and random inputs, with the outputs dlc run prints', async () => {
    const page = await open();
    await page.click('#tab-run');
    const cases: [example: string, inputs: string | 'random'][] = [
      ['conv1d', readFileSync('examples/conv1d.json', 'utf8')],
      ['image_kernels', readFileSync('examples/image_kernels.json', 'utf8')],
      ['mlp', 'random'],
      ['lstm_sentiment', 'random'],
    ];
    const { dir, file, dlc } = cliSandbox('dlc-playground-run-');
    for (const [example, given] of cases) {
      await page.select('#examples', example);
      await settled(page);
      if (given === 'random') {
        await page.click('#run-random');
        await page.waitForFunction(() => !(window as unknown as { playground: Probe }).playground.running);
      } else
        await page.$eval('#run-inputs', (e, text) => {
          (e as HTMLTextAreaElement).value = text;
          e.dispatchEvent(new Event('input'));
        }, given);
      const inputs = await page.$eval('#run-inputs', (e) => (e as HTMLTextAreaElement).value);
      expect(inputs.length, example).toBeGreaterThan(2);
      await page.click('#run-go');
      await page.waitForFunction(() => !(window as unknown as { playground: Probe }).playground.running, { timeout: 120_000 });
      const outputs = await page.evaluate(() => (window as unknown as { playground: Probe }).playground.outputs);
      const cli = dlc('run', `examples/${example}.dl`, '--input', file(`${example}.json`, inputs), '--json');
      expect(cli.code, cli.stderr).toBe(0);
      expect(outputs, example).toEqual(JSON.parse(cli.stdout));
      if (example === 'image_kernels') {
        // Image inputs and outputs ([1, H, W, 1]) are drawn too, one canvas per example.
        const [input] = Object.values(JSON.parse(given) as Record<string, number[][][][]>);
        const drawn = await page.$$eval('#run-input-images canvas', (cs) => cs.map((c) => [(c as HTMLCanvasElement).width, (c as HTMLCanvasElement).height]));
        expect(drawn).toEqual([[input[0][0].length, input[0].length]]);
        const outputImages = Object.values(outputs ?? {}).filter((v) => Array.isArray((v as number[][][][])[0]?.[0]?.[0])).length;
        expect(await page.$$eval('#run-output canvas', (cs) => cs.length)).toBe(outputImages);
        expect(outputImages).toBeGreaterThan(0);
        await page.screenshot({ path: join(SHOTS, 'run-images.png') });
      }
    }
    expect(dir).toBeTruthy();
    // An input of the wrong shape: dlc run's message, in the page.
    await page.$eval('#run-inputs', (e) => ((e as HTMLTextAreaElement).value = '{"tokens": [[1, 2, 3]]}'));
    await page.click('#run-go');
    await page.waitForFunction(() => !(window as unknown as { playground: Probe }).playground.running);
    const cli = dlc('run', 'examples/lstm_sentiment.dl', '--input', file('wrong.json', '{"tokens": [[1, 2, 3]]}'));
    expect(cli.code).toBe(1);
    const shown = await page.$eval('#run-output', (e) => e.textContent ?? '');
    expect(cli.stderr).toContain(shown.split('\n')[0]);
    expect(shown.length).toBeGreaterThan(10);
    await page.screenshot({ path: join(SHOTS, 'run.png') });
    await page.close();
  }, 300_000);

  it('runs large products on a thread per core when the page is cross-origin isolated, on one otherwise, with dlc run\'s outputs', async () => {
    // A batch of 64 through 1024 x 1024 products: 67 M multiply-adds each, a few ms: long enough for a waiting thread to wake and join.
    const text = 'model Wide {\n  input x: [1024]\n  h = x -> dense(1024, activation = relu) -> dense(1024, activation = relu)\n  output y = h -> dense(4)\n}\n';
    const rng = createRng(5);
    const inputs = JSON.stringify({ x: Array.from({ length: 64 }, () => Array.from({ length: 1024 }, () => Math.round(rng.normal() * 1e4) / 1e4)) });
    const { file, dlc } = cliSandbox('dlc-playground-threads-');
    const cli = dlc('run', file('wide.dl', text), '--input', file('wide.json', inputs), '--json');
    expect(cli.code, cli.stderr).toBe(0);
    for (const [site, isolated] of [[base, true], [plainBase, false]] as const) {
      const page = await open(`#${encodeState({ source: text, diagram: { detail: 'auto', theme: 'light', fit: '16:9', direction: 'LR' }, panel: 'run' })}`, site);
      expect(await page.evaluate(() => crossOriginIsolated)).toBe(isolated);
      await page.click('#tab-run');
      await page.$eval('#run-inputs', (e, given) => {
        (e as HTMLTextAreaElement).value = given;
        e.dispatchEvent(new Event('input'));
      }, inputs);
      // Runs until a worker thread has taken a chunk (they start while the page loads, and join as they come up).
      let run: Probe['run'];
      for (let i = 0; i < 20; i++) {
        await page.click('#run-go');
        await page.waitForFunction(() => !(window as unknown as { playground: Probe }).playground.running, { timeout: 60_000 });
        run = await page.evaluate(() => (window as unknown as { playground: Probe }).playground.run);
        expect(await page.evaluate(() => (window as unknown as { playground: Probe }).playground.outputs)).toEqual(JSON.parse(cli.stdout));
        if (!isolated || run!.chunksByThread.slice(1).some((n) => n > 0)) break;
      }
      if (isolated) {
        expect(run!.kernels).toBe(`WebAssembly SIMD, ${await page.evaluate(() => navigator.hardwareConcurrency)} threads`);
        expect(run!.chunksByThread.slice(1).reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
      } else {
        expect(run!.kernels).toBe('WebAssembly SIMD, 1 thread');
        expect(run!.chunksByThread).toEqual([]);
      }
      expect(await page.$eval('#run-status', (e) => e.textContent)).toContain(`on ${run!.kernels}`);
      await page.close();
    }
  }, 300_000);

  it('hovers a layer with the parameters dlc summary counts, completes ops after ->, and formats as dlc fmt', async () => {
    const page = await open();
    await page.select('#examples', 'mlp');
    const probe = await settled(page);
    const text = readFileSync('examples/mlp.dl', 'utf8');
    expect(probe.source).toBe(text);
    // Hover on the second dense layer: its op, shapes and the parameter count of its row in dlc summary.
    const at = text.indexOf('dense(hidden / 2)') + 2;
    const point = await page.evaluate((offset) => {
      const r = (window as unknown as { playgroundEditor: { coordsAtPos(n: number): { left: number; top: number; bottom: number } } }).playgroundEditor.coordsAtPos(offset);
      return { x: r.left + 2, y: (r.top + r.bottom) / 2 };
    }, at);
    await page.mouse.move(point.x, point.y);
    await page.waitForSelector('.dl-hover', { timeout: 30_000 });
    const hoverText = await page.$eval('.dl-hover', (e) => e.textContent ?? '');
    const summary = summarize(selectModel(compileSource({ path: 'mlp.dl', text })));
    const name = /layer (\S+) \(dense\)/.exec(hoverText)?.[1];
    const row = summary.layers.find((l) => l.name === name);
    expect(row, hoverText).toBeDefined();
    expect(row!.params).toBeGreaterThan(0);
    expect(hoverText).toContain(`params: ${grouped(row!.params)}`);
    expect(formatSummary(summary)).toContain(grouped(row!.params));
    await page.screenshot({ path: join(SHOTS, 'hover.png') });
    await page.mouse.move(1, 1);

    // Completion after `->` at the end of the model's chain lists every op a model can call.
    const end = text.indexOf('-> softmax') + '-> softmax'.length;
    await page.evaluate((offset) => {
      const view = (window as unknown as { playgroundEditor: { dispatch(t: unknown): void; focus(): void } }).playgroundEditor;
      view.dispatch({ selection: { anchor: offset } });
      view.focus();
    }, end);
    await page.keyboard.type(' -> ');
    await page.waitForSelector('.cm-tooltip-autocomplete', { timeout: 30_000 });
    const labels = await page.$$eval('.cm-tooltip-autocomplete .cm-completionLabel', (es) => es.map((e) => e.textContent));
    expect(labels.length).toBeGreaterThan(10);
    for (const op of callableOps()) expect(labels, op).toContain(op);
    await page.screenshot({ path: join(SHOTS, 'completion.png') });
    await page.keyboard.press('Escape');

    // Format: a crumpled copy of the example (no indentation, spaces around operators tripled; comments kept) comes back as the example.
    const crumpled = text
      .split('\n')
      .map((line) => (line.startsWith('#') ? line : line.trimStart().replace(/ (->|=) /g, '  $1   ')))
      .join('\n');
    expect(crumpled).not.toBe(text);
    await page.evaluate((source) => {
      const view = (window as unknown as { playgroundEditor: { state: { doc: { length: number } }; dispatch(t: unknown): void } }).playgroundEditor;
      view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: source } });
    }, crumpled);
    expect((await settled(page)).source).toBe(crumpled);
    await page.click('#format');
    await page.waitForFunction((expected) => (window as unknown as { playground: Probe }).playground.source === expected, { timeout: 30_000 }, text);
    expect((await settled(page)).reply?.diagnostics).toEqual([]);

    // A misspelt op gets the language service's quick fix as a lint action (in the lint panel, Ctrl-Shift-M), which mends it.
    const misspelt = text.replace('-> dropout(0.2)', '-> dropuot(0.2)');
    await page.evaluate((source) => {
      const view = (window as unknown as { playgroundEditor: { state: { doc: { length: number } }; dispatch(t: unknown): void; focus(): void } }).playgroundEditor;
      view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: source } });
      view.focus();
    }, misspelt);
    expect((await settled(page)).reply?.diagnostics[0].message).toBe("unknown op or block 'dropuot'");
    await page.keyboard.down('Control');
    await page.keyboard.down('Shift');
    await page.keyboard.press('KeyM');
    await page.keyboard.up('Shift');
    await page.keyboard.up('Control');
    await page.waitForSelector('.cm-panel.cm-panel-lint .cm-diagnosticAction', { timeout: 30_000 });
    expect(await page.$eval('.cm-panel.cm-panel-lint .cm-diagnosticAction', (e) => e.textContent)).toBe("Change 'dropuot' to 'dropout'");
    await page.click('.cm-panel.cm-panel-lint .cm-diagnosticAction');
    await page.waitForFunction((expected) => (window as unknown as { playground: Probe }).playground.source === expected, { timeout: 30_000 }, text);
    expect((await settled(page)).reply?.diagnostics).toEqual([]);
    await page.close();
  }, 300_000);

  it("trains mnist_train.dl in the page with dlc train's numbers, and predicts a digit drawn with the mouse as the interpreter does", async () => {
    // A short run: 600 training and 100 test digits, one epoch.
    const original = readFileSync('examples/mnist_train.dl', 'utf8');
    const text = original.replace('mnist(train = 8000, test = 2000)', 'mnist(train = 600, test = 100)');
    expect(text).not.toBe(original);
    const page = await open(`#${encodeState({ source: text, diagram: { detail: 'auto', theme: 'light', fit: '16:9', direction: 'LR' }, panel: 'train' })}`);
    // Stop cancels a run (here of the section's three epochs) once it has begun.
    await page.click('#train-go');
    await page.waitForFunction(() => /batch \d+/.test(document.getElementById('train-status')!.textContent ?? ''), { timeout: 120_000, polling: 50 });
    await page.click('#train-stop');
    await page.waitForFunction(() => !(window as unknown as { playground: Probe }).playground.training);
    expect(await page.$eval('#train-status', (e) => e.textContent)).toBe('the training run was stopped');
    // Said where the training is, not as a compiler notice under the editor.
    expect((await messagesInPage(page)).join('\n')).not.toContain('stopped');
    expect(await page.evaluate(() => (window as unknown as { playground: Probe }).playground.trained)).toBeUndefined();
    await settled(page);

    await page.type('#train-epochs', '1');
    await page.click('#train-go');
    await page.waitForFunction(() => (window as unknown as { playground: Probe }).playground.trained !== undefined, { timeout: 300_000, polling: 200 });
    const { trained } = await page.evaluate(() => (window as unknown as { playground: Probe }).playground);
    expect(trained?.error).toBeUndefined();
    expect(trained?.history.length).toBe(1);
    expect(await page.$eval('#train-progress', (e) => (e as HTMLProgressElement).value)).toBe(1);
    expect(await page.$$eval('#train-curves svg', (e) => e.length)).toBe(1);

    // dlc train on the same file, with the same seed (the section's) and epochs.
    const { dir, file, dlc } = cliSandbox('dlc-playground-train-');
    const source = file('mnist_short.dl', text);
    const cli = dlc('train', source, '--epochs', '1', '-o', join(dir, 'short.safetensors'), '--metrics', join(dir, 'short.json'), '--quiet');
    expect(cli.code, cli.stderr).toBe(0);
    const metrics = JSON.parse(readFileSync(join(dir, 'short.json'), 'utf8')) as { epochs: { loss: number; accuracy: number; test_loss: number; test_accuracy: number }[] };
    const round = (x: number | null) => (x === null ? null : +x.toPrecision(6));
    const [epoch] = trained!.history;
    expect({ loss: round(epoch.loss), accuracy: round(epoch.accuracy), test_loss: round(epoch.testLoss), test_accuracy: round(epoch.testAccuracy) }).toEqual({
      loss: metrics.epochs[0].loss,
      accuracy: metrics.epochs[0].accuracy,
      test_loss: metrics.epochs[0].test_loss,
      test_accuracy: metrics.epochs[0].test_accuracy,
    });

    // Download weights: the file dlc train -o wrote, the same tensors and metadata.
    const downloads = mkdtempSync(join(dir, 'downloads-'));
    const cdp = await page.createCDPSession();
    await cdp.send('Browser.setDownloadBehavior', { behavior: 'allow', downloadPath: downloads });
    await page.click('#train-download');
    const downloaded = join(downloads, 'MnistConvNet.safetensors');
    for (let i = 0; i < 200 && !existsSync(downloaded); i++) await new Promise((resolve) => setTimeout(resolve, 50));
    const [fromPage, fromCli] = [downloaded, join(dir, 'short.safetensors')].map((path) => decodeSafetensors(new Uint8Array(readFileSync(path))));
    expect({ ...fromPage.metadata }).toEqual({ ...fromCli.metadata });
    expect([...fromPage.tensors.keys()]).toEqual([...fromCli.tensors.keys()]);
    for (const [name, t] of fromCli.tensors) expectClose(tensor(t.shape, fromPage.tensors.get(name)!.data as Float32Array), tensor(t.shape, t.data as Float32Array), 1e-5);

    // Draw a 7 with the mouse: the page shows ten probabilities summing to 1, and the class the interpreter gives the same pixels with dlc train's weights.
    const box = await (await page.$('#digit'))!.boundingBox();
    expect(box).toBeDefined();
    const at = (x: number, y: number) => [box!.x + x * box!.width, box!.y + y * box!.height] as const;
    await page.mouse.move(...at(0.3, 0.25));
    await page.mouse.down();
    await page.mouse.move(...at(0.7, 0.25), { steps: 8 });
    await page.mouse.move(...at(0.45, 0.8), { steps: 12 });
    await page.mouse.up();
    await page.waitForFunction(() => (window as unknown as { playground: Probe }).playground.digit?.output !== undefined, { timeout: 60_000 });
    const digit = (await page.evaluate(() => (window as unknown as { playground: Probe }).playground.digit))!;
    expect(digit.pixels.length).toBe(784);
    expect(Math.max(...digit.pixels)).toBeGreaterThan(0.5);
    const probs = digit.output!;
    expect(probs.length).toBe(10);
    expect(probs.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    const graph = selectModel(compileSource({ path: source, text }));
    const weights = await loadWeights(join(dir, 'short.safetensors'), graph);
    const { outputs } = new Interpreter(optimize(graph).graph, weights).run({ image: tensor([1, 28, 28, 1], Float32Array.from(digit.pixels)) });
    const expected = Array.from(outputs.probs.data);
    expect(probs.map((p) => p.toFixed(5))).toEqual(expected.map((p) => p.toFixed(5)));
    const best = expected.indexOf(Math.max(...expected));
    expect(await page.$eval('#digit-prediction p', (e) => e.textContent)).toBe(`prediction: ${best}`);
    expect(await page.$$eval('#digit-prediction .bar', (e) => e.length)).toBe(10);
    await page.screenshot({ path: join(SHOTS, 'train.png') });

    // A model without a train section: dlc train's message, in the page.
    await page.select('#examples', 'mlp');
    await settled(page);
    await page.click('#train-go');
    await page.waitForFunction(() => !(window as unknown as { playground: Probe }).playground.training);
    const refused = dlc('train', 'examples/mlp.dl', '-o', join(dir, 'mlp.safetensors'));
    expect(refused.code).toBe(1);
    const shown = await page.$eval('#train-status', (e) => e.textContent ?? '');
    expect(shown).toBe("model 'DeepMLP' has no train section");
    expect(refused.stderr).toContain(shown);
    await page.close();
  }, 600_000);

  it('measures the edit-to-diagram latency on a 200-line model', async () => {
    const source = twoHundredLines();
    expect(source.split('\n').length).toBe(200);
    const page = await open(`#${encodeState({ source, diagram: { detail: 'auto', theme: 'light', fit: '16:9', direction: 'LR' }, panel: 'diagram' })}`);
    await page.click('.cm-content');
    const first = await settled(page);
    expect(first.source).toBe(source);
    expect(first.reply?.diagnostics).toEqual([]);
    const expected = await inNode(source, 'latency.dl');
    expect(await nodesInPage(page)).toBe(expected.nodes);
    // Edits that leave the model as it was: append a comment character at the end, one at a time, each waited for.
    await page.keyboard.down('Control');
    await page.keyboard.press('End');
    await page.keyboard.up('Control');
    const runs = 7;
    const start = first.latencies.length;
    const worker: { compile: number; check: number; diagram: number }[] = [];
    for (let i = 0; i < runs; i++) {
      await page.keyboard.type(i === 0 ? '#' : 'x');
      worker.push((await settled(page)).reply!.ms as { compile: number; check: number; diagram: number });
    }
    const medianOf = (xs: number[]) => xs.sort((a, b) => a - b)[xs.length >> 1];
    const latencies = (await settled(page)).latencies.slice(start).sort((a, b) => a - b);
    expect(latencies.length).toBe(runs);
    const median = latencies[runs >> 1];
    console.log(`playground: edit -> diagram on a 200-line model (${expected.nodes} diagram nodes): median ${median.toFixed(0)} ms, min ${latencies[0].toFixed(0)} ms, max ${latencies.at(-1)!.toFixed(0)} ms over ${runs} edits; in the worker, median ${medianOf(worker.map((w) => w.compile)).toFixed(0)} ms to compile (${medianOf(worker.map((w) => w.check)).toFixed(0)} ms of it checking) and ${medianOf(worker.map((w) => w.diagram)).toFixed(0)} ms to draw`);
    // Edits that change the model: the last dense layer's width, 11 to 17 (each a new diagram).
    const changed: number[] = [];
    const at = source.indexOf('dense(10)') + 'dense(1'.length;
    for (let i = 1; i <= runs; i++) {
      await page.evaluate((from, digit) => {
        const view = (window as unknown as { playgroundEditor: { dispatch(t: unknown): void } }).playgroundEditor;
        view.dispatch({ changes: { from, to: from + 1, insert: digit } });
      }, at, String(i));
      const probe = await settled(page);
      expect(probe.source).toContain(`dense(1${i})`);
      expect(probe.reply?.totalParams).toBe(expected.totalParams + 16 * i + i);
      changed.push(probe.latencies.at(-1)!);
    }
    console.log(`playground: edit of a layer's argument -> diagram on the same model: median ${medianOf(changed).toFixed(0)} ms, min ${changed[0].toFixed(0)} ms, max ${changed.at(-1)!.toFixed(0)} ms over ${runs} edits`);
    await page.screenshot({ path: join(SHOTS, 'latency.png') });
    if (process.env.DLC_PLAYGROUND_SCREENSHOT) {
      await page.select('#examples', 'mnist_convnet');
      await settled(page);
      await page.screenshot({ path: process.env.DLC_PLAYGROUND_SCREENSHOT });
    }
    await page.close();
  }, 300_000);
});

/**
 * A 200-line model: nine blocks of fourteen convolutions with a skip
 * connection, and a model that chains them.
 */
function twoHundredLines(): string {
  const lines: string[] = ['# A 200-line model for the playground latency measurement.'];
  for (let b = 0; b < 9; b++) {
    lines.push('', `# block ${b}: a convolution pair with a skip connection`, `block unit${b}(channels, kernel = 3) {`, '  input x');
    for (let k = 0; k < 14; k++) lines.push(`  h${k} = ${k === 0 ? 'x' : `h${k - 1}`} -> conv2d(channels, kernel = kernel, padding = same) -> relu`);
    lines.push('  output add(x, h13) -> relu', '}');
  }
  lines.push('', 'model Tall {', '  input image: [32, 32, 3]', '  x0 = image -> conv2d(16, kernel = 3, padding = same) -> relu');
  for (let b = 0; b < 9; b++) lines.push(`  x${b + 1} = x${b} -> unit${b}(16)`);
  lines.push('  output logits = x9 -> global_avgpool -> dense(10)', '}');
  // Four comment lines make it 200.
  lines.splice(lines.length - 12, 0, '  # the stem, then the nine units,', '  # each keeping 16 channels,', '  # then a classifier', '');
  return lines.join('\n');
}
