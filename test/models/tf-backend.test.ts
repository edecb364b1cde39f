import { createRequire } from 'node:module';
import { afterEach, describe, expect, it } from 'vitest';
import {
  TF_BACKEND_ENV,
  backendChoiceFromEnv,
  loadTensorflow,
  loadTensorflowBackend,
  withoutNewProcessHandlers,
} from '../../src/models/tf-backend.js';

const tfjsNodeInstalled = (() => {
  try {
    createRequire(import.meta.url).resolve('@tensorflow/tfjs-node');
    return true;
  } catch {
    return false;
  }
})();

const savedEnv = process.env[TF_BACKEND_ENV];
afterEach(() => {
  if (savedEnv === undefined) delete process.env[TF_BACKEND_ENV];
  else process.env[TF_BACKEND_ENV] = savedEnv;
});

describe('loadTensorflow', () => {
  it.skipIf(tfjsNodeInstalled)('falls back to wasm when @tensorflow/tfjs-node is absent, and really computes on it', async () => {
    delete process.env[TF_BACKEND_ENV];
    const exceptionListeners = process.listenerCount('uncaughtException');
    const rejectionListeners = process.listenerCount('unhandledRejection');
    const { tf, backend } = await loadTensorflow();
    expect(backend).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    const product = tf.tidy(() => tf.matMul(tf.tensor2d([[1, 2], [3, 4]]), tf.tensor2d([[5], [6]])).dataSync());
    expect(Array.from(product)).toEqual([17, 39]);
    // Emscripten's process-wide handlers were taken back off.
    expect(process.listenerCount('uncaughtException')).toBe(exceptionListeners);
    expect(process.listenerCount('unhandledRejection')).toBe(rejectionListeners);
  });

  it('is memoised: the same module comes back', async () => {
    delete process.env[TF_BACKEND_ENV];
    const a = await loadTensorflow();
    const b = await loadTensorflow();
    expect(b.tf).toBe(a.tf);
    expect(b.backend).toBe(a.backend);
  });

  it('uses cpu when FML_TF_BACKEND=cpu, and switches back afterwards', async () => {
    process.env[TF_BACKEND_ENV] = 'cpu';
    const cpu = await loadTensorflow();
    expect(cpu.backend).toBe('cpu');
    expect(cpu.tf.getBackend()).toBe('cpu');
    delete process.env[TF_BACKEND_ENV];
    const auto = await loadTensorflow();
    expect(auto.tf.getBackend()).toBe(auto.backend);
  });

  it.skipIf(tfjsNodeInstalled)('fails with FML_ERR_BACKEND_UNAVAILABLE when tensorflow is forced but not installed', async () => {
    process.env[TF_BACKEND_ENV] = 'tensorflow';
    await expect(loadTensorflow()).rejects.toMatchObject({ code: 'FML_ERR_BACKEND_UNAVAILABLE' });
    await expect(loadTensorflowBackend('tensorflow')).rejects.toThrow(/tfjs-node/);
  });

  it('rejects an unknown FML_TF_BACKEND value with FML_ERR_CONFIG_INVALID', () => {
    expect(() => backendChoiceFromEnv('gpu')).toThrow(expect.objectContaining({ code: 'FML_ERR_CONFIG_INVALID' }));
    expect(backendChoiceFromEnv(undefined)).toBe('auto');
    expect(backendChoiceFromEnv(' WASM ')).toBe('wasm');
  });
});

describe('withoutNewProcessHandlers', () => {
  it('removes only the listeners added while loading', async () => {
    const mine = () => undefined;
    process.on('unhandledRejection', mine);
    try {
      const rejection = process.listeners('unhandledRejection');
      const exception = process.listeners('uncaughtException');
      await withoutNewProcessHandlers(() => {
        process.on('unhandledRejection', () => undefined);
        process.on('uncaughtException', () => undefined);
      });
      expect(process.listeners('unhandledRejection')).toEqual(rejection);
      expect(process.listeners('uncaughtException')).toEqual(exception);
      expect(process.listeners('unhandledRejection')).toContain(mine);
    } finally {
      process.removeListener('unhandledRejection', mine);
    }
  });
});
