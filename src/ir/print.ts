/**
 * The IR as readable text (`dlc compile FILE --emit ir`), one node per line:
 *   %conv2d_1: [11, 11, 64] = conv2d(%maxpool, filters=64, kernel=3, ...)  # 17:8 residual_1
 * Shapes omit the batch dimension. Used by golden tests of the passes, so the
 * format is stable: attributes in declaration order, constants abbreviated.
 */
import { lineCol } from '../diagnostics.js';
import type { AttrValue, Graph, Node } from './types.js';

export function printGraph(graph: Graph): string {
  const inputs = graph.inputs.map((n) => `%${n.name}: ${typeText(n)}`).join(', ');
  const lines = [`model ${graph.name}(${inputs}) {`];
  for (const node of graph.nodes) {
    if (node.op === 'input') continue;
    // A masked value names the inputs its mask comes from (ir/mask.ts); an explicit mask is an argument after the inputs.
    const maskArg = node.maskArg ? [`mask=%${node.maskArg.name}`] : [];
    const args = [...node.inputs.map((i) => `%${i.name}`), ...maskArg, ...Object.entries(node.attrs).map(([k, v]) => `${k}=${attrText(v)}`)];
    const { line, column } = lineCol(node.span);
    const path = node.blockPath.map((f) => f.instance).join('/');
    const shares = node.shared && node.shared.use > 0 ? ` shares ${node.shared.layer}` : '';
    const mask = node.mask ? ` mask(${node.mask.map((n) => `%${n.name}`).join(', ')})` : '';
    lines.push(`  %${node.name}: ${typeText(node)}${mask} = ${node.op}(${args.join(', ')})  # ${line}:${column}${path ? ` ${path}` : ''}${shares}`);
  }
  lines.push(`  return ${graph.outputs.map((o) => `${o.name} = %${o.node.name}`).join(', ')}`, '}');
  return lines.join('\n');
}

const typeText = (n: Pick<Node, 'type'>): string =>
  n.type.parts ? `(${n.type.parts.map((type) => typeText({ type })).join(', ')})` : `[${n.type.shape.slice(1).join(', ')}]${n.type.dtype === 'int32' ? ' int' : ''}`;

export function attrText(v: AttrValue): string {
  if (typeof v === 'number' || typeof v === 'boolean') return `${v}`;
  if (typeof v === 'string') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.join(', ')}]`;
  if ('symbol' in v) return v.symbol;
  if ('call' in v) return `${v.call}(${Object.entries(v.attrs).map(([k, x]) => `${k}=${attrText(x)}`).join(', ')})`;
  if ('data' in v) {
    const values = Array.from(v.data.slice(0, 9), (x) => +x.toPrecision(6));
    return `tensor<${v.shape.join('x')}>[${values.join(', ')}${v.data.length > 9 ? ', ...' : ''}]`;
  }
  return '?';
}
