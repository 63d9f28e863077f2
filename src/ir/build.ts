/**
 * AST -> graph IR for one model: resolves op and block names through the
 * registry, binds call arguments (bind.ts: against an op's AttrSpecs or a
 * block's parameters), inlines blocks, expands `repeat`, and names layers
 * Keras-style. Constant expressions go through the shared evaluator
 * (constants.ts); this file supplies what names, calls and chains mean in a body.
 * Shapes are not inferred here (see infer.ts); node types are placeholders.
 *
 * Values defined in a model or block (named outputs included) may be used
 * before the line that defines them: each is evaluated on first use, which
 * orders the graph topologically and lets us report a cycle as one. Layer
 * names (`as`) are a namespace of their own, apart from value names.
 * A destructuring statement (`out, h, c = x -> lstm(8, return_state = true)`)
 * evaluates its right side once, on first use of any of its names; each name
 * is a `result` node selecting one part of the tuple (src/ops/result.ts).
 * Problems are collected as diagnostics; evaluation continues with a poison
 * value so that independent errors are all reported in one run.
 */
import type { Arg, Decl, Expr, Program, Span, Stmt } from '../frontend/ast.js';
import { Diagnostic, internal, messages, suggest } from '../diagnostics.js';
import { unknownOpAdvice } from '../ops/aliases.js';
import { callableOps, lookupOp, type OpName } from '../ops/index.js';
import type { OpDef } from '../ops/op.js';
import { attrParams, bind, BindArg, Param } from './bind.js';
import { ConstEntry, describeConst, describeValue, ERROR, Evaluator, Host, isTensor, namesIn, Value as AnyValue } from './constants.js';
import type { AttrValue, BlockFrame, Dim, Graph, Node, OpCall, TensorType } from './types.js';

type BlockDecl = Extract<Decl, { kind: 'block' }>;
type ModelDecl = Extract<Decl, { kind: 'model' }>;
type CallExpr = Extract<Expr, { kind: 'call' }>;
type AsExpr = Extract<Expr, { kind: 'as' }>;
/** A layer name given with `as`, and where it was written. */
type LayerName = { name: string; span: Span };

/**
 * A named layer, kept so that it can be applied again: the call as bound at
 * its first application, and the nodes that application made. Applying it
 * again (`b -> d`, `d(b)`) makes the same nodes on new inputs, each reading
 * the weights of its counterpart (Node.shared), as calling one Keras layer
 * object twice does.
 */
interface SharedLayer {
  /** As written (`d`), and as claimed (`residual_1/d`). */
  name: LayerName;
  full: string;
  e: CallExpr;
  scope: Scope;
  /** An op call keeps its explicit `mask =` input; a later call reads the same mask. */
  target: { block: BlockDecl } | { op: OpDef; maskArg?: Node };
  args: BindArg<Value>[];
  nodes: Node[];
  uses: number;
}
/** A named layer, or a value bound to a call that its first application makes one. */
type Shareable = SharedLayer | { first: Extract<Value, { kind: 'call' }>; name: LayerName };

/** What an expression in a model or block body evaluates to; a deferred call keeps the scope of its arguments. */
type Value = AnyValue<Scope>;
const UNTYPED: TensorType = { shape: [], dtype: 'float32' };

/** Limits (the README's table), each checked before the work it bounds. */
export const GRAPH_LIMITS = {
  /** Layers in one model after `repeat` and blocks are expanded: GPT-2 XL and ResNet-152 need a few thousand. */
  nodes: 100_000,
  /** Blocks being inlined inside one another. */
  blockDepth: 64,
  /** Values whose evaluation waits on one another (only a cycle gets this deep: deep chains of definitions are ordered first). */
  valueDepth: 200,
  /** A body whose definitions depend on each other this deep is evaluated in dependency order, without recursion. */
  orderFrom: 32,
};

/** One definition in a model or block body, evaluated on first use. */
interface Binding {
  span: Span;
  state: 'pending' | 'active' | 'done';
  expr?: Expr;
  value?: Value;
  /** A name of a destructuring statement: part `index` of `count` of the statement's value (`of`, evaluated once for all its names). */
  part?: { of: Binding; index: number; count: number };
}

/** Names visible in a model or block body. */
interface Scope {
  bindings: Map<string, Binding>;
  frames: BlockFrame[];
  /** Blocks being inlined, for recursion errors. */
  callStack: string[];
}

export interface ProgramIndex {
  program: Program;
  consts: Map<string, ConstEntry>;
  blocks: Map<string, BlockDecl>;
  models: Map<string, ModelDecl>;
}

/** Indexes the top-level declarations, reporting duplicates. */
export function indexProgram(program: Program, diagnostics: Diagnostic[]): ProgramIndex {
  const index: ProgramIndex = { program, consts: new Map(), blocks: new Map(), models: new Map() };
  const seen = new Map<string, Span>();
  for (const decl of program.decls) {
    if (decl.kind === 'train') continue;
    const previous = seen.get(decl.name);
    if (previous || lookupOp(decl.name) || decl.name === 'repeat') {
      diagnostics.push(previous ? messages.redefined(decl.nameSpan, decl.name, previous) : messages.redefined(decl.nameSpan, decl.name, decl.nameSpan));
      continue;
    }
    seen.set(decl.name, decl.nameSpan);
    if (decl.kind === 'const') index.consts.set(decl.name, { decl, state: 'pending' });
    if (decl.kind === 'block') index.blocks.set(decl.name, decl);
    if (decl.kind === 'model') index.models.set(decl.name, decl);
  }
  for (const decl of program.decls)
    if (decl.kind === 'train' && !index.models.has(decl.model))
      diagnostics.push(messages.trainForUnknownModel(decl.nameSpan, decl.model, suggest(decl.model, index.models.keys())));
  return index;
}

export function buildGraph(index: ProgramIndex, model: ModelDecl, diagnostics: Diagnostic[]): Graph {
  try {
    return new GraphBuilder(index, diagnostics).model(model);
  } catch (e) {
    // Each limit alone keeps the recursion shallow; all of them at once (64 blocks deep, each line nested 40 deep) may not.
    if (!(e instanceof RangeError && /call stack/.test(e.message))) throw e;
    diagnostics.push(messages.tooDeepToCheck(model.nameSpan, model.name));
    return { name: model.name, nodes: [], inputs: [], outputs: [], span: model.span };
  }
}

/** Evaluates the top-level constants no model used, so that their errors are reported too. */
export function checkConstants(index: ProgramIndex, diagnostics: Diagnostic[]): void {
  const builder = new GraphBuilder(index, diagnostics);
  for (const name of index.consts.keys()) builder.ev.global(name);
}

class GraphBuilder {
  private nodes: Node[] = [];
  /** The op nodes built so far, by layer name, for layer arguments. */
  private layers = new Map<string, Node>();
  /** Named layers (`as`, or a value bound to a call), by full name: how to apply each again, sharing its weights. */
  private namedLayers = new Map<string, SharedLayer>();
  /** The layer a value bound to a call (`tower = encoder(64)`) became at its first application. */
  private layerOfValue = new Map<Value, SharedLayer>();
  /** The named layer the latest call built (a value's layer, found by applyShared). */
  private lastNamed?: SharedLayer;
  private taken = new Set<string>();
  private counters = new Map<string, number>();
  /** Set once the node limit is reported: every later call fails fast instead of expanding. */
  private full = false;
  /** Local values being evaluated inside one another. */
  private resolving = 0;
  /** Anonymous dimensions (`None`) made so far: each gets its own variable. */
  private anonymous = 0;
  readonly ev: Evaluator;

  constructor(
    private index: ProgramIndex,
    private diagnostics: Diagnostic[],
  ) {
    this.ev = new Evaluator(index.consts, (d) => this.report(d));
  }

  model(decl: ModelDecl): Graph {
    const scope = this.scopeFor(decl.body, [], []);
    const inputs: Node[] = [];
    for (const stmt of decl.body)
      if (stmt.kind === 'input') {
        const node = this.modelInput(stmt);
        if (node) {
          inputs.push(node);
          scope.bindings.set(stmt.name, { span: stmt.nameSpan, state: 'done', value: { kind: 'tensor', node } });
        }
      }
    if (inputs.length === 0 && !decl.body.some((s) => s.kind === 'input')) this.report(messages.missingInput(decl.nameSpan, decl.name));
    this.resolveDeepFirst(scope);
    const outputs: Graph['outputs'] = [];
    for (const stmt of decl.body) {
      if (stmt.kind === 'output') {
        const node = this.tensor(this.outputValue(stmt, scope), stmt.value.span);
        if (node) outputs.push({ name: stmt.name ?? node.name, node });
      } else if (stmt.kind === 'assign' || stmt.kind === 'const') {
        this.resolve(stmt.name, scope);
      } else if (stmt.kind === 'unpack') {
        for (const { name } of stmt.names) this.resolve(name, scope);
      }
    }
    if (!decl.body.some((s) => s.kind === 'output')) this.report(messages.missingOutput(decl.nameSpan, `model '${decl.name}'`));
    return { name: decl.name, nodes: this.nodes, inputs, outputs, span: decl.span };
  }

  // ---- scopes and names -------------------------------------------------

  /**
   * Every named statement is a value of the body, a named output included:
   * `output seq = x -> lstm(8, sequences = true)` can feed a later (or earlier) line.
   */
  private scopeFor(body: Stmt[], frames: BlockFrame[], callStack: string[]): Scope {
    const scope: Scope = { bindings: new Map(), frames, callStack };
    for (const stmt of body) {
      if (stmt.kind === 'unpack') {
        const of: Binding = { span: stmt.span, state: 'pending', expr: stmt.value };
        stmt.names.forEach(({ name, nameSpan }, index) => {
          if (name === '_') return; // a result not wanted, as in Python: `_, h, c = ...`
          const previous = scope.bindings.get(name);
          if (previous) this.report(messages.redefined(nameSpan, name, previous.span));
          else scope.bindings.set(name, { span: nameSpan, state: 'pending', part: { of, index, count: stmt.names.length } });
        });
        continue;
      }
      if (stmt.name === undefined || stmt.nameSpan === undefined) continue; // an anonymous output
      const previous = scope.bindings.get(stmt.name);
      if (previous) {
        this.report(messages.redefined(stmt.nameSpan, stmt.name, previous.span));
        continue;
      }
      const expr = stmt.kind === 'input' ? undefined : stmt.value;
      scope.bindings.set(stmt.name, { span: stmt.nameSpan, state: expr ? 'pending' : 'done', expr, value: expr ? undefined : ERROR });
    }
    return scope;
  }

  /** An output's value: through its binding when it is named (so a line that uses it shares the node), else evaluated here. */
  private outputValue(stmt: Extract<Stmt, { kind: 'output' }>, scope: Scope): Value {
    const binding = stmt.name === undefined ? undefined : scope.bindings.get(stmt.name);
    // A binding of another statement means this output's name was a redefinition, already reported.
    return binding?.expr === stmt.value ? this.resolve(stmt.name!, scope)! : this.expr(stmt.value, scope);
  }

  /** Evaluates a local definition on first use; a use while it is being evaluated is a cycle. */
  private resolve(name: string, scope: Scope, useSpan?: Span): Value | undefined {
    const binding = scope.bindings.get(name);
    if (!binding) return undefined;
    if (binding.state === 'done') return binding.value!;
    if (binding.state === 'active') {
      this.report(messages.cycle(useSpan ?? binding.span, [name, ...this.activePath(scope), name]));
      return ERROR;
    }
    if (binding.part?.of.state === 'active') {
      // The value of a destructuring statement uses one of its own names: `out, h = lstm(h)`.
      const siblings = [...scope.bindings].filter(([, b]) => b.part?.of === binding.part!.of && b.state === 'active').map(([n]) => n);
      this.report(messages.cycle(useSpan ?? binding.span, [name, ...siblings, name]));
      return ERROR;
    }
    if (this.resolving >= GRAPH_LIMITS.valueDepth) {
      this.report(messages.valuesTooDeep(useSpan ?? binding.span, GRAPH_LIMITS.valueDepth));
      return ERROR;
    }
    binding.state = 'active';
    this.resolving++;
    try {
      binding.value = binding.part ? this.part(binding.part, scope) : this.expr(binding.expr!, scope);
    } finally {
      this.resolving--;
    }
    binding.state = 'done';
    return binding.value;
  }

  /** A destructured name's value: a `result` node of the statement's value, which is evaluated on the first such use. */
  private part({ of, index, count }: NonNullable<Binding['part']>, scope: Scope): Value {
    if (of.state === 'pending') {
      of.state = 'active';
      of.value = this.expr(of.expr!, scope);
      of.state = 'done';
    }
    const tuple = of.value!.kind === 'error' ? undefined : this.tensor(of.value!, of.expr!.span);
    if (!tuple) return ERROR;
    const node: Node = {
      id: this.nodes.length, name: this.uniqueName(`${tuple.name}:${index}`), op: 'result', inputs: [tuple], attrs: { index, count },
      resolved: undefined, type: UNTYPED, span: of.span, blockPath: scope.frames,
    };
    this.nodes.push(node);
    return { kind: 'tensor', node };
  }

  /**
   * Evaluating on first use recurses once per definition a line waits on, so
   * 3,000 definitions written in reverse order would overflow the stack. When
   * a body's definitions depend on each other deeply, evaluate them first in
   * order of their depth (found without recursion), so that each finds what
   * it uses already done. Shallow bodies keep first-use order, which decides
   * layer numbering.
   */
  private resolveDeepFirst(scope: Scope): void {
    const pending = [...scope.bindings].filter(([, b]) => b.state === 'pending');
    if (pending.length < GRAPH_LIMITS.orderFrom) return;
    const uses = new Map(pending.map(([name, b]) => [name, namesIn(b.expr ?? b.part!.of.expr!).filter((n) => scope.bindings.get(n)?.state === 'pending')]));
    const height = new Map<string, number>();
    const onPath = new Set<string>();
    for (const [root] of pending) {
      if (height.has(root)) continue;
      const stack: [string, number][] = [[root, 0]]; // a name and how many of its uses are done
      onPath.add(root);
      while (stack.length > 0) {
        const top = stack[stack.length - 1];
        const next = uses.get(top[0])![top[1]++];
        if (next === undefined) {
          height.set(top[0], 1 + uses.get(top[0])!.reduce((h, n) => Math.max(h, onPath.has(n) ? 0 : (height.get(n) ?? 0)), 0));
          onPath.delete(top[0]);
          stack.pop();
        } else if (!height.has(next) && !onPath.has(next)) {
          onPath.add(next);
          stack.push([next, 0]);
        }
      }
    }
    if ([...height.values()].every((h) => h < GRAPH_LIMITS.orderFrom)) return;
    for (const [name] of [...height].sort((a, b) => a[1] - b[1])) this.resolve(name, scope);
  }

  private activePath(scope: Scope): string[] {
    return [...scope.bindings].filter(([, b]) => b.state === 'active').map(([n]) => n).reverse().slice(0, -1).reverse();
  }

  private uniqueName(base: string): string {
    let n = this.counters.get(base) ?? 0;
    let name = n === 0 ? base : `${base}_${n}`;
    while (this.taken.has(name)) name = `${base}_${++n}`;
    this.counters.set(base, n + 1);
    this.taken.add(name);
    return name;
  }

  /**
   * The layer (or block instance) name that `as` gives, inside a block
   * prefixed with the block's instance (`residual_1/proj`); undefined, and
   * reported, when a layer or input already has it. Layer names are their own
   * namespace: `h = x -> dense(4) as h` is fine.
   */
  private claim(layerName: LayerName, scope: Scope): string | undefined {
    const name = scope.frames.length > 0 ? `${scope.frames.at(-1)!.instance}/${layerName.name}` : layerName.name;
    if (this.taken.has(name)) return this.report(messages.layerNameReused(layerName.span, name)), undefined;
    this.taken.add(name);
    return name;
  }

  private report(d: Diagnostic): void {
    this.diagnostics.push(d);
  }

  // ---- expressions --------------------------------------------------------

  /** Constants evaluate through the shared evaluator; names look in `scope` first; calls, chains and `as` are built here. */
  private expr(e: Expr, scope: Scope): Value {
    return this.ev.evaluate(e, this.host(scope));
  }

  private host(scope: Scope): Host<Scope> {
    return {
      local: (name, span) => this.resolve(name, scope, span),
      names: () => [...scope.bindings.keys()],
      other: (e) => {
        switch (e.kind) {
          case 'call':
            return this.call(e, scope, [], undefined);
          case 'chain': {
            let current: Value = this.expr(e.head, scope);
            let span = e.head.span;
            for (const stage of e.stages) {
              const input = current.kind === 'error' ? undefined : this.tensor(current, span);
              if (!input) {
                this.checkStage(stage, scope);
                current = ERROR;
              } else current = this.stage(stage, scope, input);
              span = stage.span;
            }
            return current;
          }
          case 'as':
            return this.named(e, scope);
        }
      },
    };
  }

  /** Applies the right side of `->` to `input`. */
  private stage(e: Expr, scope: Scope, input: Node, layerName?: LayerName): Value {
    if (e.kind === 'as') {
      if (layerName) return this.fail(messages.notAStage(e.span, 'two layer names'));
      return this.stage(e.expr, scope, input, { name: e.name, span: e.nameSpan });
    }
    if (e.kind === 'name') {
      // No value stands right of '->', so an op's or block's name there is the op even where a value has the name (`output softmax = ... -> softmax`).
      const isCallable = lookupOp(e.name) || this.index.blocks.has(e.name);
      const shared = isCallable ? undefined : this.sharedLayer(e.name, e.span, scope);
      if (shared) return this.applyShared(shared, [input], e.span, layerName);
      const local = scope.bindings.get(e.name) ?? this.index.consts.get(e.name);
      if (local && !isCallable) return this.fail(messages.notAStage(e.span, `the value '${e.name}'`));
      return this.call({ kind: 'call', callee: e.name, calleeSpan: e.span, args: [], span: e.span }, scope, [input], layerName);
    }
    if (e.kind === 'call') return this.call(e, scope, [input], layerName);
    return this.fail(messages.notAStage(e.span, 'an expression'));
  }

  /**
   * `E as NAME` outside a chain stage: names the layer that the call E makes
   * (an op's node, or a block's instance). A chain in parentheses names its
   * last stage, as `x -> f as NAME` does.
   */
  private named(e: AsExpr, scope: Scope): Value {
    const layerName = { name: e.name, span: e.nameSpan };
    const target = e.expr;
    if (target.kind === 'chain') {
      const last = target.stages.at(-1)!;
      const stages = [...target.stages.slice(0, -1), { ...e, expr: last, span: { ...last.span, end: e.span.end } }];
      return this.expr({ ...target, stages }, scope);
    }
    if (target.kind !== 'call') {
      const what = target.kind === 'as' ? `a layer already named '${target.name}'` : target.kind === 'name' ? `the name '${target.name}'` : 'an expression';
      return this.fail(messages.asNotACall(e.span, e.name, what));
    }
    const value = this.call(target, scope, [], layerName);
    if (value.kind !== 'call') return value;
    const call = target.span.source.text.slice(target.span.start, target.span.end);
    return this.fail({ ...messages.asNotACall(e.span, e.name, `${describeValue(value)}, which has no input`), hint: `chain it: x -> ${call} as ${e.name}` });
  }

  /**
   * After an error upstream in a chain, still reports unknown names and bad
   * arguments in the later stages, so that one run lists them all.
   */
  private checkStage(e: Expr, scope: Scope): void {
    if (e.kind === 'as') return this.checkStage(e.expr, scope);
    const call = e.kind === 'call' ? e : e.kind === 'name' ? { callee: e.name, calleeSpan: e.span, args: [] as Arg[], span: e.span } : undefined;
    if (!call || call.callee === 'repeat' || this.index.blocks.has(call.callee)) return;
    const op = lookupOp(call.callee);
    if (!op || op.internal) {
      this.report(this.unknownOp(call.callee, call.calleeSpan));
      return;
    }
    const args = call.args.filter((a) => !(a.name === 'mask' && op.maskArg)).map((a) => ({ arg: a, value: this.argValue(a, scope, op) }));
    args.forEach((a) => this.ev.reportTypo(a.value));
    if (args.every((a) => a.value.kind !== 'error' && a.value.kind !== 'tensor')) this.attrs(op, args, call.span);
  }

  /** A call of something that is no op or block: Keras's name for an op, a layer dlc lacks (with its family's ops), or a typo. */
  private unknownOp(name: string, span: Span): Diagnostic {
    const { alias, family } = unknownOpAdvice(name, callableOps());
    if (alias) return messages.kerasName(span, name, alias);
    if (family) return messages.notAnOpYet(span, name, family.name, family.ops);
    if (!this.opSuggestions.has(name)) this.opSuggestions.set(name, suggest(name, [...callableOps(), ...this.index.blocks.keys(), 'repeat']));
    return messages.unknownOp(span, name, this.opSuggestions.get(name));
  }
  /** "Did you mean" per unknown name, worked out once: a file may misspell one op thousands of times. */
  private readonly opSuggestions = new Map<string, string | undefined>();

  /** An op call, block call or `repeat`, with `prepend` as its first inputs (from a chain). */
  private call(e: CallExpr, scope: Scope, prepend: Node[], layerName?: LayerName): Value {
    if (this.full) return ERROR;
    if (e.callee === 'repeat') return layerName ? this.fail(messages.asRepeat(layerName.span, layerName.name)) : this.repeat(e, scope, prepend);
    const block = this.index.blocks.get(e.callee);
    const op = lookupOp(e.callee);
    const shared = !block && !op ? this.sharedLayer(e.callee, e.calleeSpan, scope) : undefined;
    if (shared) return this.callShared(shared, e, scope, prepend, layerName);
    if (!block && (!op || op.internal)) {
      this.report(this.unknownOp(e.callee, e.calleeSpan));
      for (const a of e.args) this.ev.reportTypo(this.expr(a.value, scope));
      return ERROR;
    }
    const stateInputs: Node[] = [];
    const args = e.args.map((a) => ({ arg: a, value: this.isValues(op, a) ? this.values(a, scope, stateInputs) : this.argValue(a, scope, op) }));
    if (args.some((a) => a.value.kind === 'error')) return ERROR;
    const inputs = [...prepend];
    const attrArgs: BindArg<Value>[] = [];
    let maskArg: Node | undefined;
    for (const a of args) {
      if (a.arg.name === 'mask' && op) {
        // An explicit mask is a model input, read by the op's kernel at run time (ir/mask.ts).
        if (!op.maskArg) return this.fail(messages.maskNotTaken(a.arg.span, op.name));
        if (a.value.kind !== 'tensor' || a.value.node.op !== 'input')
          return this.fail(messages.maskNotInput(a.arg.span, op.name, a.value.kind === 'tensor' ? `layer '${a.value.node.name}'` : describeValue(a.value)));
        maskArg = a.value.node;
      } else if (!a.arg.name && a.value.kind === 'tensor') {
        if (attrArgs.some((x) => !x.arg.name)) return this.fail(messages.inputAfterAttr(a.arg.span, e.callee));
        inputs.push(a.value.node);
      } else attrArgs.push(a);
    }
    const minInputs = block ? block.body.filter((s) => s.kind === 'input').length : op!.inputs.min;
    if (inputs.length === 0 && minInputs > 0) return { kind: 'call', expr: e, scope };
    inputs.push(...stateInputs);
    const target = block ? { block } : { op: op!, maskArg };
    const before = this.nodes.length;
    const value = this.apply(target, e, scope, inputs, attrArgs, layerName);
    if (layerName && value.kind === 'tensor') {
      const full = 'block' in target ? value.node.blockPath[scope.frames.length].instance : value.node.name;
      this.lastNamed = { name: layerName, full, e, scope, target, args: attrArgs, nodes: this.nodes.slice(before), uses: 1 };
      this.namedLayers.set(full, this.lastNamed);
    }
    return value;
  }

  private apply(target: SharedLayer['target'], e: CallExpr, scope: Scope, inputs: Node[], args: BindArg<Value>[], layerName?: LayerName): Value {
    return 'block' in target ? this.inlineBlock(target.block, e, scope, inputs, args, layerName) : this.opNode(target.op, e, inputs, args, scope, layerName, target.maskArg);
  }

  // ---- shared layers ----------------------------------------------------------

  /**
   * The layer `name` stands for where an op or block call could: a value
   * bound to a call (`tower = encoder(64)`, Keras's layer object; `first` until
   * it is applied), or a layer named with `as` before this line. Undefined
   * when it is neither.
   */
  private sharedLayer(name: string, span: Span, scope: Scope): Shareable | undefined {
    if (scope.bindings.has(name)) {
      const value = this.resolve(name, scope, span)!;
      if (value.kind !== 'call') return undefined;
      return this.layerOfValue.get(value) ?? { first: value, name: { name, span: scope.bindings.get(name)!.span } };
    }
    return this.namedLayers.get(scope.frames.length > 0 ? `${scope.frames.at(-1)!.instance}/${name}` : name);
  }

  /** `d(b)`: a shared layer called on tensors; its other arguments are those of its first call. */
  private callShared(layer: Shareable, e: CallExpr, scope: Scope, prepend: Node[], layerName?: LayerName): Value {
    const inputs = [...prepend];
    for (const a of e.args) {
      const v = this.expr(a.value, scope);
      if (v.kind === 'error') return ERROR;
      if (a.name !== undefined || v.kind !== 'tensor') return this.fail(messages.sharedLayerArgs(a.span, e.callee));
      inputs.push(v.node);
    }
    if (inputs.length === 0) return this.fail(messages.sharedLayerArgs(e.span, e.callee));
    return this.applyShared(layer, inputs, e.span, layerName);
  }

  /**
   * Applies a named layer to `inputs`: the first application of a value bound
   * to a call builds the layer under the value's name; any later one builds the
   * same nodes again, each reading its counterpart's weights.
   */
  private applyShared(layer: Shareable, inputs: Node[], span: Span, layerName?: LayerName): Value {
    if (layerName) return this.fail(messages.asShared(layerName.span, layerName.name, layer.name.name));
    if ('first' in layer) {
      // A value bound to a call, applied for the first time: the layer is built here, named after the value.
      const value = this.call(layer.first.expr, layer.first.scope, inputs, layer.name);
      if (value.kind === 'tensor') this.layerOfValue.set(layer.first, this.lastNamed!);
      return value;
    }
    const use = layer.uses++;
    const before = this.nodes.length;
    const counters = new Map(this.counters);
    // An op's new node is where this use is written; a block's instance keeps the call that made it (its diagram title).
    const e = 'op' in layer.target ? { ...layer.e, span } : layer.e;
    const value = this.apply(layer.target, e, layer.scope, inputs, layer.args, { name: `${layer.name.name}[${use}]`, span });
    const made = this.nodes.slice(before);
    if (value.kind !== 'tensor') return value;
    if (made.length !== layer.nodes.length || made.some((n, i) => n.op !== layer.nodes[i].op)) throw internal(`shared layer '${layer.full}' built differently on its use ${use}`);
    // Each new node is named after its counterpart (`dense[1]`) and takes no default name, so that
    // the layers after it are named as Keras names them (a layer called twice is one layer).
    this.counters = counters;
    layer.nodes.forEach((owner, i) => {
      const node = made[i];
      this.taken.delete(node.name);
      this.layers.delete(node.name);
      node.name = `${owner.name}[${use}]`;
      this.taken.add(node.name);
      this.layers.set(node.name, node);
      owner.shared = { layer: owner.name, use: 0 };
      node.shared = { layer: owner.name, use, at: span };
    });
    return value;
  }

  /** The argument is given by name to one of the op's 'values' attributes (initial_state). */
  private isValues(op: OpDef | undefined, a: Arg): boolean {
    return a.name !== undefined && op !== undefined && op.attrs.some((spec) => spec.name === a.name && spec.type.kind === 'values');
  }

  /**
   * A 'values' argument, `[h, c]` or one value: each becomes an input of the
   * node (into `into`, after the others); the attribute's value is how many.
   */
  private values(a: Arg, scope: Scope, into: Node[]): Value {
    const items = a.value.kind === 'list' ? a.value.items : [a.value];
    for (const item of items) {
      const node = this.tensor(this.expr(item, scope), item.span);
      if (!node) return ERROR;
      into.push(node);
    }
    return { kind: 'const', value: items.length };
  }

  /**
   * An argument's value. A bare name that one of the op's symbol arguments
   * takes is that symbol even where a value has the name: `padding = same`
   * with an `output same = ...` in the model (a tensor never fits there).
   * By name it must be that argument's choice; by position, any symbol argument's.
   */
  private argValue(a: Arg, scope: Scope, op: OpDef | undefined): Value {
    if (a.value.kind === 'name' && op) {
      const name = a.value.name;
      const takes = op.attrs.some((spec) => (a.name === undefined || spec.name === a.name) && spec.type.kind === 'symbol' && spec.type.choices.includes(name));
      if (takes) return { kind: 'name', name, span: a.value.span, candidates: [] };
      if (op.attrs.some((spec) => spec.name === a.name && spec.type.kind === 'layer')) return this.layerArg(name, a.value.span, scope);
    }
    return this.expr(a.value, scope);
  }

  /**
   * A layer argument (`tie = wte`): a layer name (`as`, or a Keras-style
   * default such as `embedding`) first, then a value (the layer's output).
   * The layer must be built already: the value it reads is upstream, as GPT-2's
   * head reads the sequence its embedding began.
   */
  private layerArg(name: string, span: Span, scope: Scope): Value {
    const scoped = scope.frames.length > 0 ? `${scope.frames.at(-1)!.instance}/${name}` : name;
    const node = this.layers.get(scoped);
    if (node) return { kind: 'tensor', node };
    if (scope.bindings.has(name)) return this.expr({ kind: 'name', name, span }, scope);
    return this.fail(messages.unknownLayer(span, name, suggest(name, [...this.layers.keys()])));
  }

  private opNode(op: OpDef, e: CallExpr, inputs: Node[], args: BindArg<Value>[], scope: Scope, layerName?: LayerName, maskArg?: Node): Value {
    const { min, max } = op.inputs;
    if (inputs.length < min || inputs.length > max) {
      const expected = min === max ? `${min} input${min === 1 ? '' : 's'}` : max === Infinity ? `at least ${min} inputs` : `${min} to ${max} inputs`;
      return this.fail(messages.inputCount(e.span, op.name, expected, inputs.length));
    }
    const attrs = this.attrs(op, args, e.span);
    if (!attrs) return ERROR;
    if (this.nodes.length >= GRAPH_LIMITS.nodes) return this.tooLarge(e.span, 'more than');
    const name = layerName ? this.claim(layerName, scope) : this.uniqueName(op.name);
    if (name === undefined) return ERROR;
    const node: Node = { id: this.nodes.length, name, op: op.name as OpName, inputs, attrs, resolved: undefined, type: UNTYPED, span: e.span, blockPath: scope.frames, ...(maskArg && { maskArg }) };
    this.nodes.push(node);
    this.layers.set(name, node);
    return { kind: 'tensor', node };
  }

  /** Binds an op call's non-tensor arguments to the op's AttrSpecs, filling in defaults. */
  private attrs(op: OpDef, args: BindArg<Value>[], callSpan: Span): Record<string, AttrValue> | undefined {
    const params = attrParams<Scope>(op.attrs, this.ev, (inner, call) => {
      // A wrapped layer's values (initial_state) are the wrapper's to take, as in Keras's Bidirectional.
      const innerArgs = call.expr.args.map((a) => ({
        arg: a,
        value: this.isValues(inner, a) ? this.fail(messages.wrappedValues(a.span, op.name, inner.name, a.name!)) : this.argValue(a, call.scope, inner),
      }));
      const attrs = this.attrs(inner, innerArgs, call.expr.span);
      return attrs && ({ call: inner.name, attrs, span: call.expr.span } satisfies OpCall);
    });
    return bind(op.name, params, args, callSpan, (d) => this.report(d))?.values;
  }

  // ---- blocks ---------------------------------------------------------------

  private inlineBlock(block: BlockDecl, e: CallExpr, callerScope: Scope, inputs: Node[], args: BindArg<Value>[], layerName?: LayerName): Value {
    if (callerScope.callStack.includes(block.name))
      return this.fail(messages.recursiveBlock(e.calleeSpan, [...callerScope.callStack.slice(callerScope.callStack.indexOf(block.name)), block.name]));
    if (callerScope.callStack.length >= GRAPH_LIMITS.blockDepth) return this.fail(messages.blocksTooDeep(e.calleeSpan, GRAPH_LIMITS.blockDepth, [...callerScope.callStack, block.name]));
    const inputStmts = block.body.filter((s): s is Extract<Stmt, { kind: 'input' }> => s.kind === 'input');
    if (inputs.length !== inputStmts.length) return this.fail(messages.blockArgCount(e.span, block.name, inputStmts.length, inputs.length));
    // Block parameters take any value: their names and count are checked here, their values where the body uses them.
    // A default is evaluated at each call that leaves it out, in a scope of its own.
    const params: Param<Value, Value>[] = block.params.map((p) => ({
      name: p.name,
      positional: true,
      default: p.default && (() => this.expr(p.default!, { bindings: new Map(), frames: callerScope.frames, callStack: callerScope.callStack })),
      check: (value) => value,
    }));
    const given = bind(block.name, params, args, e.span, (d) => this.report(d))?.values;
    if (!given) return ERROR;
    const instance = layerName ? this.claim(layerName, callerScope) : this.uniqueName(block.name);
    if (instance === undefined) return ERROR;
    const frame: BlockFrame = { block: block.name, instance, label: callLabel(block.name, args), span: e.span };
    const scope = this.scopeFor(block.body, [...callerScope.frames, frame], [...callerScope.callStack, block.name]);
    for (const [name, value] of Object.entries(given)) {
      if (scope.bindings.has(name)) continue; // a body definition shadows the parameter; reported as redefinition below
      scope.bindings.set(name, { span: block.nameSpan, state: 'done', value });
    }
    inputStmts.forEach((stmt, i) => {
      if (stmt.shape) this.report(messages.inputShapeInBlock(stmt.shape.span, stmt.name));
      scope.bindings.set(stmt.name, { span: stmt.nameSpan, state: 'done', value: { kind: 'tensor', node: inputs[i] } });
    });
    this.resolveDeepFirst(scope);
    const outputs = block.body.filter((s) => s.kind === 'output');
    if (outputs.length !== 1) return this.fail(outputs.length === 0 ? messages.missingOutput(block.nameSpan, `block '${block.name}'`) : messages.blockOutputCount(outputs[1].span, block.name));
    for (const stmt of block.body) {
      if (stmt.kind === 'assign' || stmt.kind === 'const') this.resolve(stmt.name, scope);
      if (stmt.kind === 'unpack') for (const { name } of stmt.names) this.resolve(name, scope);
    }
    const out = this.tensor(this.outputValue(outputs[0] as Extract<Stmt, { kind: 'output' }>, scope), outputs[0].span);
    return out ? { kind: 'tensor', node: out } : ERROR;
  }

  /** `x -> repeat(n, f(...))` applies f n times in sequence. */
  private repeat(e: CallExpr, scope: Scope, prepend: Node[]): Value {
    const [countArg, callArg, ...rest] = e.args;
    if (!countArg || !callArg || rest.length > 0 || countArg.name || callArg.name || callArg.value.kind !== 'call')
      return this.fail(messages.repeatUsage(e.span));
    const count = this.ev.constant(this.expr(countArg.value, scope), countArg.span);
    if (typeof count !== 'number' || !Number.isInteger(count) || count < 1) return this.fail(messages.repeatUsage(countArg.span));
    if (prepend.length !== 1) return this.fail(messages.repeatUsage(e.span));
    if (count > GRAPH_LIMITS.nodes) return this.tooLarge(countArg.span, `at least ${count.toLocaleString('en-US')}`);
    const group = this.uniqueName('repeat');
    let current: Value = { kind: 'tensor', node: prepend[0] };
    for (let i = 0; i < count && current.kind === 'tensor'; i++) {
      const before = this.nodes.length;
      current = this.call(callArg.value, scope, [current.node]);
      // The first round shows what each adds: refuse before expanding the rest.
      const projected = this.nodes.length + (count - 1) * (this.nodes.length - before);
      if (i === 0 && projected > GRAPH_LIMITS.nodes) return this.tooLarge(countArg.span, `about ${projected.toLocaleString('en-US')}`);
      // Tag the nodes of this round so diagrams can collapse the repetition.
      for (const node of this.nodes.slice(before)) {
        const depth = scope.frames.length;
        const own = node.blockPath[depth];
        const frame: BlockFrame = own
          ? { ...own, repeat: { index: i, count, group } }
          : { block: callArg.value.callee, instance: `${group}/${i}`, label: callArg.value.span.source.text.slice(callArg.value.span.start, callArg.value.span.end), span: callArg.value.span, repeat: { index: i, count, group } };
        node.blockPath = own ? [...node.blockPath.slice(0, depth), frame, ...node.blockPath.slice(depth + 1)] : [...node.blockPath.slice(0, depth), frame, ...node.blockPath.slice(depth)];
      }
    }
    return current;
  }

  // ---- value coercions --------------------------------------------------------

  private modelInput(stmt: Extract<Stmt, { kind: 'input' }>): Node | undefined {
    if (!stmt.shape) return this.report(messages.inputShapeRequired(stmt.nameSpan, stmt.name)), undefined;
    const list = this.inputShape(stmt.shape);
    if (!list) return undefined;
    const fixed = list.filter((d): d is number => typeof d === 'number');
    if (fixed.reduce((n, x) => n * x, 1) > Number.MAX_SAFE_INTEGER) return this.report(messages.shapeTooLarge(stmt.shape.span, fixed)), undefined;
    if (this.taken.has(stmt.name)) return this.report(messages.layerNameReused(stmt.nameSpan, stmt.name)), undefined;
    this.taken.add(stmt.name);
    const type: TensorType = { shape: [null, ...list], dtype: stmt.dtype ?? 'float32' };
    const node: Node = { id: this.nodes.length, name: stmt.name, op: 'input', inputs: [], attrs: { type: type as unknown as AttrValue }, resolved: {}, type, span: stmt.span, blockPath: [] };
    this.nodes.push(node);
    return node;
  }

  /**
   * An input's shape: constant whole numbers, and dimension variables. In a
   * written list, a name that is no constant is a variable (`[T, 64]`: every
   * T of the model is one size) and `None` is an anonymous one, distinct from
   * every other.
   */
  private inputShape(shape: Expr): Dim[] | undefined {
    const items = shape.kind === 'list' ? shape.items : shape.kind === 'name' ? [shape] : undefined;
    const isVar = (e: Expr) => e.kind === 'name' && !this.index.consts.has(e.name);
    if (items && items.some(isVar)) {
      const dims = items.map((e): Dim | undefined => {
        if (isVar(e)) return (e as { name: string }).name === 'None' ? `None$${++this.anonymous}` : (e as { name: string }).name;
        const c = this.ev.constant(this.ev.evaluate(e, this.ev.constantsOnly), e.span);
        if (c === undefined) return undefined;
        if (typeof c === 'number' && Number.isInteger(c) && c > 0) return c;
        return this.report(messages.badShape(e.span, isTensor(c) ? `[${Array.from(c.data).join(', ')}]` : describeConst(c))), undefined;
      });
      return dims.every((d) => d !== undefined) ? dims : undefined;
    }
    const c = this.ev.constant(this.ev.evaluate(shape, this.ev.constantsOnly), shape.span);
    if (c === undefined) return undefined;
    const list = typeof c === 'number' ? [c] : isTensor(c) && c.shape.length === 1 ? Array.from(c.data) : undefined;
    if (!list || list.length === 0 || !list.every((x) => Number.isInteger(x) && x > 0))
      return this.report(messages.badShape(shape.span, typeof c === 'object' && !isTensor(c) ? describeConst(c) : isTensor(c) ? `[${Array.from(c.data).join(', ')}]` : describeConst(c))), undefined;
    return list;
  }

  private tensor(v: Value, span: Span): Node | undefined {
    if (v.kind === 'tensor') return v.node;
    if (v.kind === 'error') return undefined;
    if (v.kind === 'name' && (lookupOp(v.name) || this.index.blocks.has(v.name))) {
      this.report({ ...messages.notAValue(span, `the ${lookupOp(v.name) ? 'op' : 'block'} ${v.name}, which has no input`), hint: `chain it: x -> ${v.name}` });
      return undefined;
    }
    if (v.kind === 'name') return this.ev.unknown(v), undefined;
    if (v.kind === 'call') {
      const call = v.expr.span.source.text.slice(v.expr.span.start, v.expr.span.end);
      this.report({ ...messages.notAValue(span, `${describeValue(v)}, which has no input`), hint: `chain it: x -> ${call}` });
      return undefined;
    }
    this.report(messages.notAValue(span, describeValue(v)));
    return undefined;
  }

  private fail(d: Diagnostic): Value {
    this.report(d);
    return ERROR;
  }

  /** Reports the node limit once, at the call that crosses it, and stops all further expansion. */
  private tooLarge(span: Span, would: string): Value {
    if (!this.full) this.report(messages.graphTooLarge(span, GRAPH_LIMITS.nodes, would === 'more than' ? `more than ${GRAPH_LIMITS.nodes.toLocaleString('en-US')}` : would));
    this.full = true;
    return ERROR;
  }
}

/**
 * A block call with its arguments' values, for diagram titles: `bottleneck(64, stride = 2)`
 * where the source says `bottleneck(filters, stride = stride)`. A value that is not a
 * constant number, boolean, string or symbol is shown as written.
 */
function callLabel(callee: string, args: BindArg<Value>[]): string {
  const shown = (a: BindArg<Value>): string => {
    const v = a.value;
    if (v.kind === 'const' && (typeof v.value === 'number' || typeof v.value === 'boolean')) return `${v.value}`;
    if (v.kind === 'const' && typeof v.value === 'string') return JSON.stringify(v.value);
    if (v.kind === 'const' && typeof v.value === 'object' && 'symbol' in v.value) return v.value.symbol;
    if (v.kind === 'name') return v.name;
    return a.arg.value.span.source.text.slice(a.arg.value.span.start, a.arg.value.span.end);
  };
  return `${callee}(${args.map((a) => (a.arg.name ? `${a.arg.name} = ` : '') + shown(a)).join(', ')})`;
}
