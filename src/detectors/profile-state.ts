import type { SyscallEvent } from '../traces/syscall-event.js';
import type { StreamState } from '../windows/window-tracker.js';
import { callId, type NormalProfile, type ProfileStream } from './normal-profile.js';

/** A normal-profile stream as `WindowTracker` state: syscalls go in as ids, recorder events are skipped. */
export interface ProfileState extends StreamState {
  readonly stream: ProfileStream;
}

export function createProfileState(profile: NormalProfile): ProfileState {
  const stream = profile.createStream();
  return {
    stream,
    push(event: SyscallEvent) {
      if (event.kind !== 'syscall') return false;
      stream.push(callId(event.name));
      return true;
    },
  };
}
