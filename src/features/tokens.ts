import type { SyscallEvent } from '../traces/syscall-event.js';
import type { TokenSettings } from './feature-spec.js';

/**
 * Turns a stream of events into feature tokens: the call name, n-grams of consecutive calls
 * of one thread, and (optionally) argument-derived tokens. Stateful because n-grams need the
 * previous calls; one tokenizer per recording or per container stream.
 */
export interface Tokenizer {
  /** Calls `emit` once per token the event yields; returns whether the event counted as a call. */
  push(event: SyscallEvent, emit: (token: string) => void): boolean;
  reset(): void;
}

/** Threads whose last calls a tokenizer remembers for n-grams. */
const MAX_THREADS = 1024;

export function createTokenizer(settings: TokenSettings): Tokenizer {
  // Previous call names per thread: interleaved threads would otherwise invent pairs that no
  // single thread made. Recorders without thread ids share one history under key -1.
  const history = new Map<number, string[]>();
  const n = Math.max(1, Math.floor(settings.ngram));

  return {
    push(event, emit) {
      if (event.kind !== 'syscall' && !settings.others) return false;
      const name = event.name;
      emit(name);
      if (n > 1) {
        const key = event.tid ?? -1;
        let prev = history.get(key);
        if (prev === undefined) {
          // Threads come and go for the life of a container: forget the oldest beyond a cap.
          if (history.size >= MAX_THREADS) history.delete(history.keys().next().value as number);
          prev = [];
          history.set(key, prev);
        }
        let gram = name;
        for (let k = prev.length - 1, len = 2; k >= 0 && len <= n; k--, len++) {
          gram = `${prev[k]}>${gram}`;
          emit(gram);
        }
        prev.push(name);
        if (prev.length >= n) prev.shift();
      }
      if (settings.args) {
        const token = argumentToken(event);
        if (token !== undefined) emit(token);
      }
      return true;
    },
    reset() {
      history.clear();
    },
  };
}

const EXE_ARG = /(?:^|\s)exe=(\S+)/;
// `fd.name` is how a Falco feed rule carries the file (see rules/falco-feed.yaml); `newpath` is
// where a rename puts the file, which is the name that matters (an upload renamed to `.php`).
const FILENAME_ARG = /(?:^|\s)(?:fd\.name|filename|name|path|newpath)=(?:\S*\()?([^\s)]+)/;
const QUOTED_FIRST = /"([^"]*)"/;

/**
 * The token an event's arguments add, or undefined. Kept to what sysdig (`exe=`, `name=`,
 * `filename=` args), strace (first quoted path) and a Falco feed rule (`fd.name`, and `proc.name`
 * on an execve exit, which is already the new program) can all carry:
 * - `execve:<program>`: the program a process turns into (a web server running `sh` is the
 *   classic sign of code execution);
 * - `<call>:.<ext>`: the extension of a file opened or renamed (`.php` written by an upload).
 */
export function argumentToken(event: Pick<SyscallEvent, 'name' | 'args' | 'processName'>): string | undefined {
  const { name, args } = event;
  if (name === 'execve' || name === 'execveat') {
    const exe = (args === undefined ? undefined : (EXE_ARG.exec(args)?.[1] ?? QUOTED_FIRST.exec(args)?.[1])) ?? event.processName;
    if (exe === undefined || exe === '' || exe === '<NA>') return undefined;
    const base = exe.slice(exe.lastIndexOf('/') + 1);
    return `execve:${base}`;
  }
  if (args === undefined) return undefined;
  if (name === 'open' || name === 'openat' || name === 'openat2' || name === 'creat' || name === 'rename' || name === 'renameat' || name === 'renameat2') {
    const path = FILENAME_ARG.exec(args)?.[1] ?? QUOTED_FIRST.exec(args)?.[1];
    if (path === undefined) return undefined;
    const file = path.slice(path.lastIndexOf('/') + 1);
    const dot = file.lastIndexOf('.');
    if (dot <= 0 || file.length - dot > 6) return undefined;
    return `${name}:${file.slice(dot).toLowerCase()}`;
  }
  return undefined;
}

/**
 * The shortest arguments that give `token` back from `argumentToken`: replays keep a call's
 * token rather than its whole arguments, and feed it to the same tokenizers as a live event.
 */
export function argumentsOfToken(token: string): string {
  const colon = token.indexOf(':');
  const value = token.slice(colon + 1);
  return token.startsWith('execve') ? `exe=${value}` : `name=x${value}`;
}
