/**
 * Tensors to and from JSON for `dlc run`: inputs and outputs are objects keyed
 * by the model's input and output names, each a nested array with the batch
 * dimension first. Inputs are checked against the model's static types, and
 * every problem names the input and the expected and actual shapes. A
 * dimension variable (T) takes any length, the same wherever it occurs.
 */
import { suggest, UserError } from '../../diagnostics.js';
import { dimName, type Graph, type TensorType } from '../../ir/types.js';
import { inputMessages, jsonInputMessages, shown } from '../../runtime/messages.js';
import { showShape, type Tensor } from './tensor.js';

/** Bad input data: reported to the user as is, exit 1. */
export class InputError extends UserError {}

/** A JSON value where a number or a list belongs, for a message: strings quoted and cut, containers by kind (a deep one would overflow JSON.stringify). */
const valueText = (v: unknown) =>
  typeof v === 'string' ? shown(v) : Array.isArray(v) ? 'a list' : v !== null && typeof v === 'object' ? 'an object' : String(v);

const expectedText = (type: TensorType) => `[batch, ${type.shape.slice(1).map((d) => (typeof d === 'string' ? dimName(d) : d)).join(', ')}]`;
/** The per-example shape fits the type's: equal, or any length where the type has a variable. */
const fits = (shape: number[], type: TensorType) => shape.length === type.shape.length - 1 && shape.every((d, i) => typeof type.shape[i + 1] === 'string' || d === type.shape[i + 1]);

/**
 * The size of each dimension variable in `inputs` (already checked one by one);
 * an InputError names a variable that two places give different sizes.
 */
export function dimSizes(graph: Graph, inputs: Record<string, { shape: number[] }>): Map<string, number> {
  const sizes = new Map<string, { size: number; input: string }>();
  for (const input of graph.inputs)
    input.type.shape.forEach((d, axis) => {
      if (typeof d !== 'string') return;
      const size = inputs[input.name].shape[axis];
      const seen = sizes.get(d);
      if (seen && seen.size !== size) throw new InputError(inputMessages.dimension(dimName(d), input.name, size, seen.input, seen.size));
      if (!seen) sizes.set(d, { size, input: input.name });
    });
  return new Map([...sizes].map(([d, { size }]) => [d, size]));
}
const at = (path: number[]) => path.map((p) => `[${p}]`).join('');

export function inputsFromJson(graph: Graph, json: unknown): Record<string, Tensor> {
  if (typeof json !== 'object' || json === null || Array.isArray(json))
    throw new InputError(jsonInputMessages.notObject(graph.inputs.map((i) => `"${i.name}"`).join(', ')));
  const given = new Map(Object.entries(json));
  const names = graph.inputs.map((i) => i.name);
  for (const key of given.keys())
    if (!names.includes(key)) throw new InputError(jsonInputMessages.unknownKey(key, suggest(key, names), names.map((n) => `"${n}"`).join(', ')));
  const tensors: Record<string, Tensor> = {};
  let batch: number | undefined;
  for (const input of graph.inputs) {
    if (!given.has(input.name)) throw new InputError(inputMessages.missing(input.name, expectedText(input.type), ''));
    const t = tensorFromJson(input.name, given.get(input.name), input.type);
    if (batch !== undefined && t.shape[0] !== batch) throw new InputError(inputMessages.batchSize(input.name, t.shape[0], batch));
    batch = t.shape[0];
    tensors[input.name] = t;
  }
  dimSizes(graph, tensors);
  return tensors;
}

/**
 * inputsFromJson on JSON text, for the common case, read straight into
 * float32 arrays: JSON.parse would first build every row as an array of
 * boxed numbers (a ResNet batch of 8, an 8 MB file: 26 MB more at the peak).
 * Null unless the text is one object with exactly the model's inputs, each a
 * rectangular array of numbers that inputsFromJson would take as it is; the
 * caller then parses it and inputsFromJson says what is wrong. On what it
 * takes it gives inputsFromJson's tensors, value for value.
 */
export function inputsFromJsonText(graph: Graph, text: string): Record<string, Tensor> | null {
  const types = new Map(graph.inputs.map((input) => [input.name, input.type]));
  const scan = new JsonScan(text);
  const tensors: Record<string, Tensor> = {};
  if (!scan.take(OPEN_BRACE)) return null;
  do {
    const key = scan.key();
    const type = key === null ? undefined : types.get(key);
    if (key === null || !type || key in tensors || !scan.take(COLON)) return null;
    const tensor = scan.tensor(type);
    if (!tensor) return null;
    tensors[key] = tensor;
  } while (scan.take(COMMA));
  if (!scan.take(CLOSE_BRACE) || !scan.atEnd()) return null;
  const batches = new Set(Object.values(tensors).map((t) => t.shape[0]));
  if (Object.keys(tensors).length !== types.size || batches.size !== 1) return null;
  try {
    dimSizes(graph, tensors);
  } catch (e) {
    if (e instanceof InputError) return null;
    throw e;
  }
  return tensors;
}

const [OPEN_BRACE, CLOSE_BRACE, OPEN_BRACKET, CLOSE_BRACKET, COLON, COMMA, QUOTE, BACKSLASH] = [...'{}[]:,"\\'].map((c) => c.charCodeAt(0));
const isDigit = (c: number) => c >= 48 && c <= 57;
/** 2^53: every integer up to it is a double. */
const MAX_EXACT_MANTISSA = 2 ** 53;
/** 10^0 .. 10^22, each exactly a double. */
const POWERS_OF_TEN = Array.from({ length: 23 }, (_, k) => Number(`1e${k}`));

/** A cursor over JSON text for inputsFromJsonText: each method says false or null, never throws, where the text leaves its narrow path. Exported for its test. */
export class JsonScan {
  private p = 0;
  constructor(private readonly text: string) {}

  /** Skips whitespace, then takes `char` if it comes next. */
  take(char: number): boolean {
    this.skip();
    if (this.text.charCodeAt(this.p) !== char) return false;
    this.p++;
    return true;
  }

  atEnd(): boolean {
    this.skip();
    return this.p === this.text.length;
  }

  /** An object key without escapes. */
  key(): string | null {
    if (!this.take(QUOTE)) return null;
    const close = this.text.indexOf('"', this.p);
    const key = close < 0 ? null : this.text.slice(this.p, close);
    if (key === null || key.includes(String.fromCharCode(BACKSLASH))) return null;
    this.p = close + 1;
    return key;
  }

  /** A batched tensor of `type`, every array the same length as the others at its depth, every value one tensorFromJson accepts. */
  tensor(type: TensorType): Tensor | null {
    const rank = type.shape.length;
    const shape: number[] = new Array(rank).fill(-1);
    // At most one number per two characters left: the pages never written are never resident.
    const data = new Float32Array(Math.ceil(this.text.length - this.p) / 2 + 1);
    let n = 0;
    const value = (): boolean => {
      if (!this.number()) return false;
      const v = this.value[0];
      if (!Number.isFinite(Math.fround(v)) || (type.dtype === 'int32' && !Number.isInteger(v))) return false;
      data[n++] = v;
      return true;
    };
    const array = (depth: number): boolean => {
      if (!this.take(OPEN_BRACKET)) return false;
      let count = 0;
      do {
        if (!(depth === rank - 1 ? value() : array(depth + 1))) return false;
        count++;
      } while (this.take(COMMA));
      if (!this.take(CLOSE_BRACKET) || (shape[depth] >= 0 && shape[depth] !== count)) return false;
      shape[depth] = count;
      return true;
    };
    if (rank === 0 || !array(0) || !fits(shape.slice(1), type)) return null;
    return { shape, data: data.subarray(0, n) };
  }

  /**
   * A number as JSON writes it, read as JSON.parse reads it. Most inputs'
   * numbers have at most 15 digits and a small exponent: those are their
   * digits as an exact integer times or over an exact power of ten, one
   * correctly rounded operation, so the same double as Number() (Clinger's
   * fast path) without making a string (1M strings grow V8's young generation
   * to its most, 48 MB, for good). The rest go through Number(). The number
   * goes to `value[0]`, not out as a result, which would box it in a new heap
   * object each time. False where the text holds no number.
   */
  number(): boolean {
    this.skip();
    const start = this.p;
    const negative = this.text.charCodeAt(this.p) === 45; // -
    if (negative) this.p++;
    this.mantissa = this.scale = 0;
    this.exact = true;
    if (this.text.charCodeAt(this.p) === 48) this.p++; // a leading 0 stands alone
    else if (!this.digits(false)) return false;
    if (this.text.charCodeAt(this.p) === 46 && (this.p++, !this.digits(true))) return false; // .
    const e = this.text.charCodeAt(this.p);
    if (e === 101 || e === 69) {
      const sign = this.text.charCodeAt(++this.p) === 45 ? -1 : 1;
      if (this.text.charCodeAt(this.p) === 43 || sign < 0) this.p++;
      if (!isDigit(this.text.charCodeAt(this.p))) return false;
      let exponent = 0;
      for (let c = this.text.charCodeAt(this.p); isDigit(c); c = this.text.charCodeAt(++this.p)) exponent = Math.min(exponent * 10 + (c - 48), 1000);
      this.scale += sign * exponent;
    }
    const { mantissa, scale } = this;
    if (!this.exact || scale < -22 || scale > 22) this.value[0] = Number(this.text.slice(start, this.p));
    else {
      const magnitude = scale < 0 ? mantissa / POWERS_OF_TEN[-scale] : mantissa * POWERS_OF_TEN[scale];
      this.value[0] = negative ? -magnitude : magnitude;
    }
    return true;
  }

  /** The number number() read last. */
  readonly value = new Float64Array(1);
  /** number()'s state: the digits so far as an integer, whether it holds them all exactly, and the value's power of ten. */
  private mantissa = 0;
  private exact = true;
  private scale = 0;

  /** One or more digits (false if none), into the mantissa; a fraction's lower the scale. */
  private digits(fraction: boolean): boolean {
    const { text } = this;
    if (!isDigit(text.charCodeAt(this.p))) return false;
    for (let c = text.charCodeAt(this.p); isDigit(c); c = text.charCodeAt(++this.p)) {
      if (this.mantissa >= MAX_EXACT_MANTISSA / 10) this.exact = false;
      else {
        this.mantissa = this.mantissa * 10 + (c - 48);
        if (fraction) this.scale--;
      }
    }
    return true;
  }

  private skip(): void {
    const { text } = this;
    for (let c = text.charCodeAt(this.p); c === 32 || c === 10 || c === 13 || c === 9; c = text.charCodeAt(++this.p));
  }
}

export function tensorFromJson(name: string, value: unknown, type: TensorType): Tensor {
  const shape: number[] = [];
  for (let v = value; Array.isArray(v); v = v[0]) {
    shape.push(v.length);
    if (v.length === 0) break;
  }
  const rank = type.shape.length;
  const perExample = type.shape.slice(1);
  if (shape.length === rank - 1 && shape.every((d, i) => d === perExample[i]))
    throw new InputError(inputMessages.unbatched(name, showShape(shape), expectedText(type), jsonInputMessages.batchHint));
  if (!fits(shape.slice(1), type) || shape.length !== rank || shape[0] === 0)
    throw new InputError(inputMessages.shape(name, showShape(shape), expectedText(type)));
  const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
  let i = 0;
  const walk = (v: unknown, depth: number, path: number[]): void => {
    if (depth === rank) {
      if (typeof v !== 'number') throw new InputError(jsonInputMessages.notFinite(name, at(path), valueText(v)));
      // JSON.parse reads 1e400 as Infinity; float32 turns anything past its largest value into Infinity too.
      if (!Number.isFinite(Math.fround(v))) throw new InputError(jsonInputMessages.tooLarge(name, at(path), v));
      if (type.dtype === 'int32' && !Number.isInteger(v)) throw new InputError(jsonInputMessages.notWhole(name, at(path), v));
      data[i++] = v;
      return;
    }
    if (!Array.isArray(v) || v.length !== shape[depth])
      throw new InputError(jsonInputMessages.ragged(name, at(path), shape[depth], Array.isArray(v) ? String(v.length) : valueText(v)));
    v.forEach((x, k) => walk(x, depth + 1, [...path, k]));
  };
  walk(value, 0, []);
  return { shape, data };
}

/** Nested arrays, rounded to float32's precision so that JSON does not show noise digits. */
export function tensorToJson(t: Tensor): unknown {
  const build = (depth: number, offset: number): unknown => {
    if (depth === t.shape.length) return +t.data[offset].toPrecision(7);
    const stride = t.shape.slice(depth + 1).reduce((a, b) => a * b, 1);
    return Array.from({ length: t.shape[depth] }, (_, k) => build(depth + 1, offset + k * stride));
  };
  return build(0, 0);
}
