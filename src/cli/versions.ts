import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** Versions recorded in model files: this package, Node and the training libraries present. */
export async function packageVersions(): Promise<Record<string, string>> {
  const versions: Record<string, string> = { node: process.versions.node };
  for (const name of ['falco-ml', '@tensorflow/tfjs', 'libsvm-js']) {
    try {
      const file = name === 'falco-ml' ? new URL('../../package.json', import.meta.url) : require.resolve(`${name}/package.json`);
      const pkg = JSON.parse(await readFile(file, 'utf8')) as { version?: string };
      if (pkg.version !== undefined) versions[name] = pkg.version;
    } catch {
      // Not installed (or not resolvable from here): simply not recorded.
    }
  }
  return versions;
}
