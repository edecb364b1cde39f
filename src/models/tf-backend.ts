/**
 * Loads TensorFlow.js once, on the fastest backend that works here: the native `tensorflow`
 * binding when `@tensorflow/tfjs-node` is installed (it is optional: its install step downloads
 * a binary, which fails offline), else the WebAssembly backend, else the pure-JS `cpu` backend.
 *
 * Training only: no classifier scores through tfjs (see `classifier.ts`).
 *
 * Why wasm before cpu, measured with `mlp.ts` (Node 20, 2-core x86-64 VM shared with other jobs,
 * tfjs 4.22, wasm single-threaded with SIMD): the study's 100 rows x 76 features, [64, 32]
 * hidden, batch 16, 100 epochs took 1.3-1.4 s on wasm and 4.4-5.0 s on cpu (3.3-3.6x); 10,000 x
 * 100 random rows, batch 128, 3 epochs took 0.7-0.9 s on wasm and 2.5-3.9 s on cpu (2.8-5.7x).
 * So wasm trains about 3-4x faster than the pure-JS cpu backend.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import { SidecarError } from '../errors.js';

/** The TensorFlow.js namespace (`import * as tf from '@tensorflow/tfjs'`). */
export type TensorflowModule = typeof import('@tensorflow/tfjs');

/** Backends this loader can put TensorFlow.js on, fastest first. */
export const TF_BACKENDS = ['tensorflow', 'wasm', 'cpu'] as const;
/** A TensorFlow.js backend: native `tensorflow` (tfjs-node), `wasm` or pure-JS `cpu`. */
export type TfBackendName = (typeof TF_BACKENDS)[number];

/** Which backend to load: one of {@link TF_BACKENDS}, or `auto` for the fastest that loads. */
export type TfBackendChoice = TfBackendName | 'auto';

/** Environment variable that forces a backend: `tensorflow`, `wasm` or `cpu` (unset or `auto`: fastest). */
export const TF_BACKEND_ENV = 'FML_TF_BACKEND';

/** The loaded tfjs namespace and the backend it is running on. */
export interface LoadedTensorflow {
  tf: TensorflowModule;
  backend: TfBackendName;
}

const cache = new Map<TfBackendChoice, Promise<LoadedTensorflow>>();

/**
 * TensorFlow.js on the backend chosen by `FML_TF_BACKEND` (default `auto`: `tensorflow`, then
 * `wasm`, then `cpu`). Loaded once per process and choice; later calls return the same module and
 * make sure it is still the active backend.
 *
 * @throws SidecarError FML_ERR_BACKEND_UNAVAILABLE when the forced backend (or, with `auto`, every
 *   backend) cannot load.
 * @throws SidecarError FML_ERR_CONFIG_INVALID when `FML_TF_BACKEND` holds another value.
 */
export function loadTensorflow(): Promise<LoadedTensorflow> {
  return loadTensorflowBackend(backendChoiceFromEnv(process.env[TF_BACKEND_ENV]));
}

/** Parses the value of `FML_TF_BACKEND`; empty or absent means `auto`. */
export function backendChoiceFromEnv(value: string | undefined): TfBackendChoice {
  const v = (value ?? '').trim().toLowerCase();
  if (v === '' || v === 'auto') return 'auto';
  if ((TF_BACKENDS as readonly string[]).includes(v)) return v as TfBackendName;
  throw new SidecarError(
    'FML_ERR_CONFIG_INVALID',
    `${TF_BACKEND_ENV}=${value ?? ''} is not a TensorFlow.js backend; use one of ${TF_BACKENDS.join(', ')} or auto`,
  );
}

/**
 * Like {@link loadTensorflow} with an explicit choice instead of the environment variable.
 * Backends share one tfjs engine, so the last call decides the active backend.
 *
 * @throws SidecarError FML_ERR_BACKEND_UNAVAILABLE when the backend cannot load.
 */
export async function loadTensorflowBackend(choice: TfBackendChoice): Promise<LoadedTensorflow> {
  let pending = cache.get(choice);
  if (pending === undefined) {
    pending = choice === 'auto' ? loadFirstAvailable() : loadOne(choice);
    cache.set(choice, pending);
    // A failed load is not cached: the caller may fix the environment and retry.
    pending.catch(() => cache.delete(choice));
  }
  const loaded = await pending;
  if (loaded.tf.getBackend() !== loaded.backend) await activate(loaded.tf, loaded.backend);
  return loaded;
}

async function loadFirstAvailable(): Promise<LoadedTensorflow> {
  const failures: string[] = [];
  for (const backend of TF_BACKENDS) {
    try {
      return await loadOne(backend);
    } catch (err) {
      failures.push(`${backend}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  throw new SidecarError('FML_ERR_BACKEND_UNAVAILABLE', `no TensorFlow.js backend loaded (${failures.join('; ')})`);
}

async function loadOne(backend: TfBackendName): Promise<LoadedTensorflow> {
  try {
    switch (backend) {
      case 'tensorflow':
        return { tf: await importTfjsNode(), backend };
      case 'wasm': {
        const tf = await importTfjs();
        // Emscripten's glue runs when the backend initialises, not at import.
        await withoutNewProcessHandlers(async () => {
          await registerWasm(tf);
          await activate(tf, 'wasm');
        });
        return { tf, backend };
      }
      case 'cpu': {
        const tf = await importTfjs();
        await activate(tf, 'cpu');
        return { tf, backend };
      }
    }
  } catch (err) {
    if (err instanceof SidecarError) throw err;
    throw new SidecarError(
      'FML_ERR_BACKEND_UNAVAILABLE',
      `TensorFlow.js backend '${backend}' is unavailable: ${err instanceof Error ? err.message : String(err)}`,
      { cause: err },
    );
  }
}

async function activate(tf: TensorflowModule, backend: TfBackendName): Promise<void> {
  const ok = await tf.setBackend(backend);
  // setBackend resolves false (rather than rejecting) when the backend's init fails.
  if (!ok || tf.getBackend() !== backend) {
    throw new SidecarError('FML_ERR_BACKEND_UNAVAILABLE', `TensorFlow.js backend '${backend}' failed to initialise`);
  }
}

/** tfjs is CommonJS: Node's ESM loader puts module.exports on `default`, named exports maybe not. */
function namespaceOf<T>(mod: T | { default: T }): T {
  return typeof mod === 'object' && mod !== null && 'default' in mod && mod.default != null ? mod.default : (mod as T);
}

let tfjsPromise: Promise<TensorflowModule> | undefined;

function importTfjs(): Promise<TensorflowModule> {
  tfjsPromise ??= import('@tensorflow/tfjs').then((mod) => {
    const tf = namespaceOf<TensorflowModule>(mod);
    quiet(tf);
    return tf;
  });
  return tfjsPromise;
}

/** Production mode: tfjs then skips its console banner ("install our node backend") and warnings. */
function quiet(tf: TensorflowModule): void {
  tf.env().set('PROD', true);
}

async function importTfjsNode(): Promise<TensorflowModule> {
  // Silences TensorFlow C++'s start-up log (CPU instruction notices) unless the user set a level.
  process.env.TF_CPP_MIN_LOG_LEVEL ??= '2';
  // A variable specifier keeps TypeScript from resolving the optional, usually absent package.
  const specifier = '@tensorflow/tfjs-node';
  const mod: unknown = await import(specifier);
  const tf = namespaceOf(mod as TensorflowModule | { default: TensorflowModule });
  if (typeof tf.setBackend !== 'function') throw new Error(`${specifier} does not export the tfjs API`);
  quiet(tf);
  await activate(tf, 'tensorflow');
  return tf;
}

interface WasmBackendModule {
  setWasmPaths(prefixOrFileMap: string, usePlatformFetch?: boolean): void;
}

let wasmRegistered: Promise<void> | undefined;

function registerWasm(tf: TensorflowModule): Promise<void> {
  wasmRegistered ??= (async () => {
    const require = createRequire(import.meta.url);
    const entry = require.resolve('@tensorflow/tfjs-backend-wasm');
    const wasm: unknown = await import('@tensorflow/tfjs-backend-wasm');
    // tfjs on Node runs wasm single-threaded anyway (tfjs issue 3830); pinning the flag (which the
    // import above registers) keeps training deterministic if a later release turns threads on.
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
    const api = namespaceOf<WasmBackendModule>(wasm as WasmBackendModule | { default: WasmBackendModule });
    // The .wasm binaries sit next to the package's Node entry (dist/); a file path prefix makes
    // Emscripten read them with fs instead of fetch.
    api.setWasmPaths(path.dirname(entry) + path.sep);
  })();
  return wasmRegistered;
}

/**
 * Runs `load`, then removes the `process.on('uncaughtException' | 'unhandledRejection')` listeners
 * it added: Emscripten glue installs rethrowing (tfjs wasm) or silently exiting (libsvm-js)
 * handlers, which would override Node's default reporting for the whole process.
 */
export async function withoutNewProcessHandlers<T>(load: () => T | Promise<T>): Promise<T> {
  const exceptionBefore = new Set(process.listeners('uncaughtException'));
  const rejectionBefore = new Set(process.listeners('unhandledRejection'));
  try {
    return await load();
  } finally {
    for (const listener of process.listeners('uncaughtException')) {
      if (!exceptionBefore.has(listener)) process.removeListener('uncaughtException', listener);
    }
    for (const listener of process.listeners('unhandledRejection')) {
      if (!rejectionBefore.has(listener)) process.removeListener('unhandledRejection', listener);
    }
  }
}
