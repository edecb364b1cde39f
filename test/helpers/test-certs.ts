/**
 * Certificates for mutual-TLS tests, made fresh per run with node-forge: a CA, a server
 * certificate for 127.0.0.1 and localhost, a client certificate, and a second CA (with its own
 * client certificate) that the servers must refuse. Keys come from node:crypto (fast, native).
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import forge from 'node-forge';
import type { GrpcTlsFiles } from '../../src/falco/grpc-address.js';

const DAY_MS = 86_400_000;

interface Issued {
  cert: forge.pki.Certificate;
  key: forge.pki.rsa.PrivateKey;
  certPem: string;
  keyPem: string;
}

function newKeyPair(): { privateKey: forge.pki.rsa.PrivateKey; publicKey: forge.pki.rsa.PublicKey } {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
  const key = forge.pki.privateKeyFromPem(privateKey) as forge.pki.rsa.PrivateKey;
  return { privateKey: key, publicKey: forge.pki.setRsaPublicKey(key.n, key.e) };
}

function issue(commonName: string, extensions: object[], issuer?: Issued): Issued {
  const keys = newKeyPair();
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  // A positive serial: the high bit of the first byte clear.
  cert.serialNumber = `0${randomBytes(15).toString('hex')}`;
  cert.validity.notBefore = new Date(Date.now() - DAY_MS);
  cert.validity.notAfter = new Date(Date.now() + 7 * DAY_MS);
  const subject = [{ name: 'commonName', value: commonName }, { name: 'organizationName', value: 'falco-ml tests' }];
  cert.setSubject(subject);
  cert.setIssuer(issuer === undefined ? subject : issuer.cert.subject.attributes);
  cert.setExtensions(extensions);
  cert.sign(issuer?.key ?? keys.privateKey, forge.md.sha256.create());
  return { cert, key: keys.privateKey, certPem: forge.pki.certificateToPem(cert), keyPem: forge.pki.privateKeyToPem(keys.privateKey) };
}

function leaf(commonName: string, ca: Issued, usage: 'server' | 'client'): Issued {
  const extensions: object[] = [
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
    { name: 'extKeyUsage', serverAuth: usage === 'server', clientAuth: usage === 'client' },
  ];
  if (usage === 'server') {
    extensions.push({ name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }, { type: 2, value: 'localhost' }] });
  }
  return issue(commonName, extensions, ca);
}

export interface TestPki {
  dir: string;
  /** For a server: its certificate and key, and the CA that client certificates must chain to. */
  server: GrpcTlsFiles;
  /** For a client: its certificate and key, and the CA that signed the server. */
  client: GrpcTlsFiles;
  /** A client certificate from another CA, which the servers must refuse. */
  strangerClient: GrpcTlsFiles;
}

/** Writes a fresh CA, server and client certificates (PEM) into a new temporary folder. */
export function createTestPki(): TestPki {
  const dir = mkdtempSync(path.join(tmpdir(), 'fml-pki-'));
  const caExtensions = [
    { name: 'basicConstraints', cA: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true },
  ];
  const ca = issue('falco-ml test CA', caExtensions);
  const otherCa = issue('some other CA', caExtensions);
  const server = leaf('localhost', ca, 'server');
  const client = leaf('falco-ml client', ca, 'client');
  const stranger = leaf('stranger', otherCa, 'client');
  const write = (name: string, text: string): string => {
    const file = path.join(dir, name);
    writeFileSync(file, text);
    return file;
  };
  const caFile = write('ca.pem', ca.certPem);
  return {
    dir,
    server: { cert: write('server.pem', server.certPem), key: write('server-key.pem', server.keyPem), ca: caFile },
    client: { cert: write('client.pem', client.certPem), key: write('client-key.pem', client.keyPem), ca: caFile },
    strangerClient: { cert: write('stranger.pem', stranger.certPem), key: write('stranger-key.pem', stranger.keyPem), ca: caFile },
  };
}
