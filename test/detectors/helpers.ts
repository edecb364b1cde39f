import { existsSync } from 'node:fs';
import path from 'node:path';
import { callId, type NormalProfile } from '../../src/detectors/normal-profile.js';
import { readReplay } from '../../src/evaluation/window-detectors.js';
import type { Json } from '../../src/models/classifier.js';
import { createRandom } from '../../src/util/random.js';
import { SYSDIG_DATA } from '../helpers/shared-data.js';

/** Shared by the STIDE and BoSC tests: toy call sequences and stream scoring. */
export const ids = (names: string): Int32Array => Int32Array.from(names.split(' ').map(callId));

export function scores(profile: NormalProfile, seq: ArrayLike<number>): number[] {
  const stream = profile.createStream();
  const out: number[] = [];
  for (let i = 0; i < seq.length; i++) {
    stream.push(seq[i]);
    out.push(stream.score());
  }
  return out;
}

export const viaJson = (p: NormalProfile): { [key: string]: Json } => JSON.parse(JSON.stringify(p.toParams())) as { [key: string]: Json };

/** A web worker's request loop with seeded variation; `attack` inserts a shell burst mid-way. */
export function requestLoop(seed: number, loops: number, attack = false): Int32Array {
  const random = createRandom(seed);
  const out: number[] = [];
  const burst = ids('clone execve brk arch_prctl mmap openat read close exit_group wait4');
  for (let i = 0; i < loops; i++) {
    out.push(...ids('accept4 read'));
    if (random() < 0.5) out.push(...ids('openat fstat'));
    else out.push(...ids('stat openat'));
    const reads = 1 + Math.floor(random() * 3);
    for (let r = 0; r < reads; r++) out.push(callId('read'));
    out.push(...ids('close writev close'));
    if (attack && i === loops >> 1) out.push(...burst);
  }
  return Int32Array.from(out);
}

/** A real recording's syscalls as ids. */
export async function readCalls(file: string): Promise<Int32Array> {
  return (await readReplay(file, file, 0)).calls;
}

export const HAS_SYSDIG = existsSync(SYSDIG_DATA);

/** The real slice the detector tests share: warfare normal runs 1-4 to train, 5-10 held out, attack run 2. */
export async function loadWarfareSlice(): Promise<{ train: Int32Array[]; held: Int32Array[]; attack: Int32Array }> {
  const dir = path.join(SYSDIG_DATA, 'wordpress');
  const normal = (n: number): Promise<Int32Array> => readCalls(path.join(dir, 'normal', `warfare-${n}.log`));
  return {
    train: await Promise.all([1, 2, 3, 4].map(normal)),
    held: await Promise.all([5, 6, 7, 8, 9, 10].map(normal)),
    attack: await readCalls(path.join(dir, 'exec', 'warfare-2.log')),
  };
}
