/**
 * Shared validators for hyper-parameters (errors: FML_ERR_CONFIG_INVALID) and model-file or
 * profile parameters (errors: FML_ERR_MODEL_FILE_INVALID), used by the classifiers in
 * `src/models/` and the normal-profile detectors in `src/detectors/`.
 *
 * Two message styles live here, each kept exactly as its users had it:
 * - the "never" family (`invalidParam`, `invalidHyper` and the `read*` / `hyper*` readers built on
 *   them) throws `<owner> parameter "<field>" <what>` / `hyper-parameter "<name>" <what>`;
 * - the labelled family (`hyperError`, `fieldError` and the readers built on them) names the model
 *   or profile first: `<label> hyper-parameter <key>=<value> must be <what>` /
 *   `<owner> field "<field>" must be <what>`.
 */
import { SidecarError } from '../errors.js';
import type { Json } from './classifier.js';

// ---------------------------------------------------------------------------------------------
// Model-file parameters and hyper-parameters: "never" family
// ---------------------------------------------------------------------------------------------

/**
 * Rejects a model file: `<owner> parameter "<field>" <what>`.
 * @param owner what the parameter belongs to, e.g. `'stide'`; `'model'` when not given.
 * @throws SidecarError FML_ERR_MODEL_FILE_INVALID, always, naming `field`.
 */
export function invalidParam(field: string, what: string, owner = 'model'): never {
  throw new SidecarError('FML_ERR_MODEL_FILE_INVALID', `${owner} parameter "${field}" ${what}`);
}

/**
 * Reads a model parameter that must be an array of finite numbers.
 * @param length required length, when given.
 * @throws SidecarError FML_ERR_MODEL_FILE_INVALID naming the field.
 */
export function readNumberArray(params: { [key: string]: Json }, field: string, length?: number): number[] {
  const v = params[field];
  if (!Array.isArray(v)) return invalidParam(field, 'is missing or not an array');
  if (length !== undefined && v.length !== length) invalidParam(field, `has ${v.length} entries, expected ${length}`);
  const out = new Array<number>(v.length);
  for (let i = 0; i < v.length; i++) {
    const e = v[i];
    if (typeof e !== 'number' || !Number.isFinite(e)) invalidParam(field, `entry ${i} is not a finite number`);
    out[i] = e;
  }
  return out;
}

/**
 * Reads a finite numeric model parameter, optionally an integer within [min, max].
 * @throws SidecarError FML_ERR_MODEL_FILE_INVALID naming the field.
 */
export function readNumber(
  params: { [key: string]: Json },
  field: string,
  check: { integer?: boolean; min?: number; max?: number } = {},
): number {
  const v = params[field];
  if (typeof v !== 'number' || !Number.isFinite(v)) return invalidParam(field, 'is missing or not a finite number');
  if (check.integer === true && !Number.isInteger(v)) invalidParam(field, `is ${v}, not an integer`);
  if (check.min !== undefined && v < check.min) invalidParam(field, `is ${v}, below ${check.min}`);
  if (check.max !== undefined && v > check.max) invalidParam(field, `is ${v}, above ${check.max}`);
  return v;
}

/**
 * Reads a string model parameter that must be one of `allowed`.
 * @throws SidecarError FML_ERR_MODEL_FILE_INVALID naming the field.
 */
export function readChoice<T extends string>(params: { [key: string]: Json }, field: string, allowed: readonly T[]): T {
  const v = params[field];
  const found = allowed.find((a) => a === v);
  if (found === undefined) return invalidParam(field, `must be one of ${allowed.join(', ')}`);
  return found;
}

/** Hyper-parameters after defaults are applied and unknown names rejected. */
export type HyperValues = Readonly<Record<string, Json>>;

/**
 * Rejects a hyper-parameter: `[<owner> ]hyper-parameter "<name>" <what>`.
 * @param owner what the hyper-parameter belongs to, e.g. `'bosc'`; no prefix when not given.
 * @throws SidecarError FML_ERR_CONFIG_INVALID, always, naming `name`.
 */
export function invalidHyper(name: string, what: string, owner?: string): never {
  const prefix = owner === undefined ? '' : `${owner} `;
  throw new SidecarError('FML_ERR_CONFIG_INVALID', `${prefix}hyper-parameter "${name}" ${what}`);
}

/**
 * Applies `hyper` over `defaults`.
 * @throws SidecarError FML_ERR_CONFIG_INVALID for a name `defaults` does not have.
 */
export function mergeHyper(defaults: HyperValues, hyper: Record<string, Json>, kind: string): HyperValues {
  for (const key of Object.keys(hyper)) {
    if (!Object.prototype.hasOwnProperty.call(defaults, key)) {
      invalidHyper(key, `is not known to ${kind}; known: ${Object.keys(defaults).join(', ')}`);
    }
  }
  return { ...defaults, ...hyper };
}

/**
 * A numeric hyper-parameter within [min, max]; `null` reads as `Infinity` when `nullIsInfinity`.
 * @throws SidecarError FML_ERR_CONFIG_INVALID when out of range or not a number.
 */
export function hyperNumber(
  h: HyperValues,
  name: string,
  check: {
    integer?: boolean;
    min?: number;
    max?: number;
    minExclusive?: boolean;
    maxExclusive?: boolean;
    nullIsInfinity?: boolean;
  } = {},
): number {
  const v = h[name];
  if (v === null && check.nullIsInfinity === true) return Infinity;
  if (typeof v !== 'number' || !Number.isFinite(v)) return invalidHyper(name, `must be a finite number, got ${JSON.stringify(v)}`);
  if (check.integer === true && !Number.isInteger(v)) invalidHyper(name, `must be an integer, got ${v}`);
  if (check.min !== undefined && (check.minExclusive === true ? v <= check.min : v < check.min)) {
    invalidHyper(name, `must be ${check.minExclusive === true ? 'above' : 'at least'} ${check.min}, got ${v}`);
  }
  if (check.max !== undefined && (check.maxExclusive === true ? v >= check.max : v > check.max)) {
    invalidHyper(name, `must be ${check.maxExclusive === true ? 'below' : 'at most'} ${check.max}, got ${v}`);
  }
  return v;
}

/**
 * A string hyper-parameter that must be one of `allowed`.
 * @throws SidecarError FML_ERR_CONFIG_INVALID when it is not.
 */
export function hyperChoice<T extends string>(h: HyperValues, name: string, allowed: readonly T[]): T {
  const v = h[name];
  const found = allowed.find((a) => a === v);
  if (found === undefined) return invalidHyper(name, `must be one of ${allowed.join(', ')}, got ${JSON.stringify(v)}`);
  return found;
}

/**
 * A boolean hyper-parameter.
 * @throws SidecarError FML_ERR_CONFIG_INVALID when the value is not a boolean.
 */
export function hyperBoolean(h: HyperValues, name: string): boolean {
  const v = h[name];
  if (typeof v !== 'boolean') return invalidHyper(name, `must be true or false, got ${JSON.stringify(v)}`);
  return v;
}

/**
 * Reads an integer option from `source` (falling back to `fallback` when absent) that must lie in
 * [1, max]; used for both the hyper-parameters and the stored parameters of a profile.
 * @param fail reports the bad field: {@link invalidHyper} or {@link invalidParam} with an owner.
 * @throws whatever `fail` throws, with `must be an integer from 1 to <max> (got <value>)`.
 */
export function readIntegerOption(
  source: Readonly<Record<string, Json>>,
  field: string,
  fallback: number,
  max: number,
  fail: (field: string, what: string) => never,
): number {
  const v = source[field] ?? fallback;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > max) {
    fail(field, `must be an integer from 1 to ${max} (got ${JSON.stringify(v)})`);
  }
  return v;
}

// ---------------------------------------------------------------------------------------------
// Labelled family: messages name the model or profile first
// ---------------------------------------------------------------------------------------------

/** True when `v` is a number with no fractional part (so not NaN or ±Infinity). */
export function isInteger(v: Json | undefined): v is number {
  return typeof v === 'number' && Number.isInteger(v);
}

/**
 * The error for a bad hyper-parameter, to `throw`:
 * `<label> hyper-parameter <key>=<JSON value> must be <what>`.
 * @param label the model or profile, e.g. `'MLP'`, `'Nu-SVC'`, `'autoencoder'`.
 * @returns a SidecarError FML_ERR_CONFIG_INVALID.
 */
export function hyperError(label: string, key: string, value: Json, what: string): SidecarError {
  return new SidecarError('FML_ERR_CONFIG_INVALID', `${label} hyper-parameter ${key}=${JSON.stringify(value)} must be ${what}`);
}

/**
 * An integer hyper-parameter within [min, max].
 * @param label the model or profile named in the message (see {@link hyperError}).
 * @throws SidecarError FML_ERR_CONFIG_INVALID naming `key` when it is not.
 */
export function intHyper(label: string, key: string, value: Json, min: number, max: number): number {
  if (!isInteger(value) || value < min || value > max) throw hyperError(label, key, value, `an integer in [${min}, ${max}]`);
  return value;
}

/**
 * A finite numeric hyper-parameter accepted by `ok`.
 * @param label the model or profile named in the message (see {@link hyperError}).
 * @param what the accepted range in words, e.g. `'a number in (0, 1]'`.
 * @throws SidecarError FML_ERR_CONFIG_INVALID naming `key` when it is not.
 */
export function numberHyper(label: string, key: string, value: Json, ok: (v: number) => boolean, what: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || !ok(value)) throw hyperError(label, key, value, what);
  return value;
}

/**
 * A dense network's hidden layer widths: a non-empty array of integers in [1, 4096].
 * @param label the model or profile named in the message (see {@link hyperError}).
 * @throws SidecarError FML_ERR_CONFIG_INVALID naming `key` when it is not.
 */
export function layerWidthsHyper(label: string, key: string, value: Json): number[] {
  if (!Array.isArray(value) || value.length === 0 || !value.every((u) => isInteger(u) && u >= 1 && u <= 4096)) {
    throw hyperError(label, key, value, 'a non-empty array of layer widths (integers 1..4096)');
  }
  return value as number[];
}

/**
 * The error for a bad model-file or profile field, to `throw`:
 * `<owner> field "<field>" must be <what>`.
 * @param owner e.g. `'MLP model'`, `'Nu-SVC model'`, `'autoencoder profile'`.
 * @returns a SidecarError FML_ERR_MODEL_FILE_INVALID.
 */
export function fieldError(owner: string, field: string, what: string): SidecarError {
  return new SidecarError('FML_ERR_MODEL_FILE_INVALID', `${owner} field "${field}" must be ${what}`);
}

/**
 * Reads a field that must be a finite number.
 * @param owner named in the message (see {@link fieldError}).
 * @throws SidecarError FML_ERR_MODEL_FILE_INVALID naming `field`.
 */
export function readFiniteNumber(owner: string, value: Json | undefined, field: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw fieldError(owner, field, 'a finite number');
  return value;
}

/**
 * Reads a field that must be an array of exactly `length` finite numbers.
 * @param owner named in the message (see {@link fieldError}).
 * @throws SidecarError FML_ERR_MODEL_FILE_INVALID naming `field` (and the first bad index).
 */
export function readFloat64Array(owner: string, value: Json | undefined, length: number, field: string): Float64Array {
  if (!Array.isArray(value) || value.length !== length) throw fieldError(owner, field, `an array of ${length} numbers`);
  const out = new Float64Array(length);
  for (let i = 0; i < length; i++) {
    const v = value[i];
    if (typeof v !== 'number' || !Number.isFinite(v)) throw fieldError(owner, field, `finite numbers (index ${i} is ${JSON.stringify(v)})`);
    out[i] = v;
  }
  return out;
}
