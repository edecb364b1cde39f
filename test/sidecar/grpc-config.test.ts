import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/sidecar/config.js';

describe('serve configuration: gRPC in and out', () => {
  it('is off by default', async () => {
    const config = await resolveConfig({}, {});
    expect(config.grpcInput).toBeUndefined();
    expect(config.grpcOutput).toBeUndefined();
  });

  it('reads Falco’s unix socket without TLS, and TCP with all three TLS files', async () => {
    expect((await resolveConfig({ 'grpc-input': 'unix:///run/falco/falco.sock' }, {})).grpcInput).toEqual({ address: { kind: 'unix', path: '/run/falco/falco.sock' } });
    const env = { FALCO_ML_GRPC_INPUT: 'falco:5060', FALCO_ML_GRPC_INPUT_CERT: '/c.pem', FALCO_ML_GRPC_INPUT_KEY: '/k.pem', FALCO_ML_GRPC_INPUT_CA: '/ca.pem' };
    expect((await resolveConfig({}, env)).grpcInput).toEqual({ address: { kind: 'tcp', host: 'falco', port: 5060 }, tls: { cert: '/c.pem', key: '/k.pem', ca: '/ca.pem' } });
  });

  it('serves outputs on a socket or port, with its buffer and get queue sizes', async () => {
    const config = await resolveConfig({ 'grpc-output': '127.0.0.1:5061', 'grpc-output-buffer': '50' }, {});
    expect(config.grpcOutput).toEqual({ address: { kind: 'tcp', host: '127.0.0.1', port: 5061 }, bufferSize: 50, queueSize: 10_000 });
  });

  it('says what is wrong and where it came from', async () => {
    await expect(resolveConfig({ 'grpc-input': 'falco:5060' }, {})).rejects.toThrow(/--grpc-input: Falco serves gRPC over TCP with mutual TLS only/);
    await expect(resolveConfig({}, { FALCO_ML_GRPC_OUTPUT: 'unix://relative.sock' })).rejects.toThrow(/FALCO_ML_GRPC_OUTPUT: expected unix:\/\/\/ABSOLUTE\/PATH or HOST:PORT/);
    await expect(resolveConfig({ 'grpc-output': ':5061', 'grpc-output-cert': '/c.pem' }, {})).rejects.toThrow(/--grpc-output-cert: mutual TLS needs all of .*missing --grpc-output-key, --grpc-output-ca/);
    await expect(resolveConfig({ 'grpc-output-buffer': '0' }, {})).rejects.toMatchObject({ code: 'FML_ERR_CONFIG_INVALID' });
  });
});
