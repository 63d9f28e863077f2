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
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileSource, selectModel } from '../../src/compile.js';
import { CompileError, lineCol } from '../../src/diagnostics.js';
import { DEFAULT_DIAGRAM_OPTIONS, renderDiagram } from '../../src/backends/dot/index.js';
import { formatSummary, summarize } from '../../src/summary.js';
import { printGraph } from '../../src/ir/print.js';
import { optimize } from '../../src/passes/pipeline.js';
import { emitTfjs } from '../../src/backends/tfjs/index.js';
import { encodeState } from '../../playground/src/share.js';
import { cliSandbox } from '../cli/process.js';
// @ts-expect-error: a plain JavaScript build script, without type declarations
import { buildPlayground, serve } from '../../scripts/build-playground.js';

const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const EXAMPLES = readdirSync('examples').filter((f) => f.endsWith('.dl')).sort();
/** Where screenshots go; DLC_PLAYGROUND_SCREENSHOT=out/playground.png also saves the README's picture. */
const SHOTS = join(tmpdir(), 'dlc-playground-shots');

interface Probe {
  running: boolean;
  outputs?: Record<string, unknown>;
  reply?: { diagnostics: { message: string; line?: number; column?: number }[]; model?: string; totalParams?: number; svg?: string; note?: string };
  latencies: number[];
  shown: number;
  source: string;
  pending: number;
}

let browser: Browser;
let server: Server;
let base: string;

beforeAll(async () => {
  const dir: string = await buildPlayground({ quiet: true });
  const served: { server: Server; port: number } = await serve(dir, 0);
  server = served.server;
  base = `http://127.0.0.1:${served.port}/`;
  // Chromium refuses its sandbox to root (containers, CI).
  browser = await puppeteer.launch({ executablePath: CHROMIUM, args: process.getuid?.() === 0 ? ['--no-sandbox'] : [] });
  mkdirSync(SHOTS, { recursive: true });
}, 300_000);

afterAll(async () => {
  await browser?.close();
  server?.close();
});

async function open(fragment = ''): Promise<Page> {
  const page = await browser.newPage();
  await page.setViewport({ width: 1400, height: 850 });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(base + fragment);
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
    // Edits: append a comment character at the end, one at a time, each waited for.
    await page.keyboard.down('Control');
    await page.keyboard.press('End');
    await page.keyboard.up('Control');
    const runs = 7;
    const start = first.latencies.length;
    for (let i = 0; i < runs; i++) {
      await page.keyboard.type(i === 0 ? '#' : 'x');
      await settled(page);
    }
    const latencies = (await settled(page)).latencies.slice(start).sort((a, b) => a - b);
    expect(latencies.length).toBe(runs);
    const median = latencies[runs >> 1];
    console.log(`playground: edit -> diagram on a 200-line model (${expected.nodes} diagram nodes): median ${median.toFixed(0)} ms, min ${latencies[0].toFixed(0)} ms, max ${latencies.at(-1)!.toFixed(0)} ms over ${runs} edits`);
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
