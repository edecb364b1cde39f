import { lstat, unlink } from 'node:fs/promises';
import { connect } from 'node:net';
import { SidecarError, type ErrorCode } from '../errors.js';

/** True when something accepts connections on the unix socket `path`. */
function isLive(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = connect(path);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
}

/**
 * Clears the way to listen on a unix socket: a stale socket file left by a crashed run is
 * removed; a live one (something answers) or a path that is not a socket is refused, not deleted.
 * @throws SidecarError `code` when `path` is in use or is not a socket
 */
export async function removeStaleSocket(path: string, code: ErrorCode): Promise<void> {
  let info;
  try {
    info = await lstat(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  if (!info.isSocket()) throw new SidecarError(code, `${path} exists and is not a socket; refusing to replace it.`);
  if (await isLive(path)) throw new SidecarError(code, `Another process is listening on ${path}.`);
  await unlink(path);
}
