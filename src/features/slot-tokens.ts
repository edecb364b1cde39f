import type { SyscallEvent } from '../traces/syscall-event.js';
import type { FeatureSpec } from './feature-spec.js';
import { argumentToken, createTokenizer } from './tokens.js';
import { slotLookup, type SlotLookup } from './vocabulary.js';

/**
 * The vocabulary slots an event's tokens count in: exactly `createTokenizer` followed by
 * `slotLookup` on each token (same tokens, same order, tokens without a slot left out), for the
 * sliding window's hot path. The string tokenizer builds a `prev>name` string per call and hashes
 * it in the vocabulary Map (under a profile of the feed bench that lookup was the pipeline's
 * largest single cost); here call names get small integer ids once, and the slot of a name or of a
 * pair of ids is looked up once and then read from a table. N-grams longer than pairs keep the
 * string tokenizer (no shipped model uses them).
 */
export interface SlotTokenizer {
  /**
   * Writes the slots of `event`'s tokens to `out` from `at` (at most `width` of them) and returns
   * how many were written, or -1 when the event does not count as a call.
   */
  push(event: SyscallEvent, out: Int32Array, at: number, width: number): number;
}

/** Threads whose last call a tokenizer remembers for pairs (as `createTokenizer`). */
const MAX_THREADS = 1024;
/**
 * Call names given an id per vocabulary. Syscall names are a few hundred; recorder events counted
 * with `others` come from the feed and are unbounded, so names past the cap take the string path.
 */
const MAX_IDS = 1024;
/** A pair-table entry not looked up yet. */
const UNSET = -2;

/** Ids, name slots and pair slots of one vocabulary, shared by every stream on it. */
class SlotTables {
  readonly slotOf: SlotLookup;
  private readonly ids = new Map<string, number>();
  private readonly names: string[] = [];
  private readonly nameSlots: number[] = [];
  /** `pairs[prev][id]`: slot of `names[prev]>names[id]`, a row made on the first pair after `prev`. */
  private readonly pairs: (Int32Array | undefined)[] = [];

  constructor(vocabulary: readonly string[]) {
    this.slotOf = slotLookup(vocabulary);
  }

  /** The id of call `name`, or -1 once `MAX_IDS` names have ids. */
  idOf(name: string): number {
    let id = this.ids.get(name);
    if (id === undefined) {
      if (this.names.length >= MAX_IDS) return -1;
      id = this.names.length;
      this.ids.set(name, id);
      this.names.push(name);
      this.nameSlots.push(this.slotOf(name));
    }
    return id;
  }

  nameSlot(id: number): number {
    return this.nameSlots[id];
  }

  pairSlot(prev: number, id: number): number {
    let row = this.pairs[prev];
    if (row === undefined) row = this.pairs[prev] = new Int32Array(MAX_IDS).fill(UNSET);
    let slot = row[id];
    if (slot === UNSET) slot = row[id] = this.slotOf(`${this.names[prev]}>${this.names[id]}`);
    return slot;
  }
}

const TABLES = new WeakMap<readonly string[], SlotTables>();

function tablesOf(vocabulary: readonly string[]): SlotTables {
  let tables = TABLES.get(vocabulary);
  if (tables === undefined) {
    tables = new SlotTables(vocabulary);
    TABLES.set(vocabulary, tables);
  }
  return tables;
}

/** A thread's last call: its name, and its id (-1 past `MAX_IDS`). Mutated in place per call. */
interface LastCall {
  name: string;
  id: number;
}

export function createSlotTokenizer(spec: Pick<FeatureSpec, 'tokens' | 'vocabulary'>): SlotTokenizer {
  const settings = spec.tokens;
  const n = Math.max(1, Math.floor(settings.ngram));
  if (n > 2) return stringSlotTokenizer(spec);
  const tables = tablesOf(spec.vocabulary);
  const slotOf = tables.slotOf;
  // Per thread, as createTokenizer keeps per-thread histories; recorders without thread ids share -1.
  const history = new Map<number, LastCall>();
  return {
    push(event, out, at, width) {
      if (event.kind !== 'syscall' && !settings.others) return -1;
      const name = event.name;
      const id = tables.idOf(name);
      let written = 0;
      const slot = id >= 0 ? tables.nameSlot(id) : slotOf(name);
      if (slot >= 0 && written < width) out[at + written++] = slot;
      if (n === 2) {
        const key = event.tid ?? -1;
        const last = history.get(key);
        if (last === undefined) {
          // Same cap and eviction order as createTokenizer: the first thread remembered goes first.
          if (history.size >= MAX_THREADS) history.delete(history.keys().next().value as number);
          history.set(key, { name, id });
        } else {
          const pair = last.id >= 0 && id >= 0 ? tables.pairSlot(last.id, id) : slotOf(`${last.name}>${name}`);
          if (pair >= 0 && written < width) out[at + written++] = pair;
          last.name = name;
          last.id = id;
        }
      }
      if (settings.args) {
        const token = argumentToken(event);
        if (token !== undefined) {
          const argSlot = slotOf(token);
          if (argSlot >= 0 && written < width) out[at + written++] = argSlot;
        }
      }
      return written;
    },
  };
}

/** Longer n-grams: the string tokenizer and the vocabulary lookup, token by token. */
function stringSlotTokenizer(spec: Pick<FeatureSpec, 'tokens' | 'vocabulary'>): SlotTokenizer {
  const slotOf = slotLookup(spec.vocabulary);
  const tokenizer = createTokenizer(spec.tokens);
  let out: Int32Array = new Int32Array(0);
  let at = 0;
  let width = 0;
  let written = 0;
  const emit = (token: string): void => {
    const slot = slotOf(token);
    if (slot >= 0 && written < width) out[at + written++] = slot;
  };
  return {
    push(event, into, from, max) {
      out = into;
      at = from;
      width = max;
      written = 0;
      return tokenizer.push(event, emit) ? written : -1;
    },
  };
}
