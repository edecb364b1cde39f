import { UNKNOWN_TOKEN } from './feature-spec.js';

/**
 * Picks the training vocabulary: tokens seen in at least `minDocs` training recordings (or
 * windows), sorted so the same data always gives the same order, then `UNKNOWN_TOKEN` last.
 * Rare tokens seen once would only let a model memorise single recordings.
 */
export function buildVocabulary(documents: Iterable<ReadonlyMap<string, number>>, minDocs: number): string[] {
  const docFrequency = new Map<string, number>();
  for (const doc of documents) {
    for (const [token, count] of doc) {
      if (count > 0) docFrequency.set(token, (docFrequency.get(token) ?? 0) + 1);
    }
  }
  const kept = [...docFrequency].filter(([token, df]) => df >= minDocs && token !== UNKNOWN_TOKEN).map(([token]) => token);
  kept.sort(compareTokens);
  kept.push(UNKNOWN_TOKEN);
  return kept;
}

/** Single calls before n-grams before argument tokens, each group alphabetical. */
function compareTokens(a: string, b: string): number {
  const ra = tokenRank(a);
  const rb = tokenRank(b);
  if (ra !== rb) return ra - rb;
  return a < b ? -1 : a > b ? 1 : 0;
}

function tokenRank(token: string): number {
  if (token.includes(':')) return 2;
  if (token.includes('>')) return 1;
  return 0;
}

/** Maps a token to its vector slot, or -1 when the token is not counted. */
export type SlotLookup = (token: string) => number;

const LOOKUPS = new WeakMap<readonly string[], SlotLookup>();

/**
 * The slot lookup of a vocabulary, built once per vocabulary array and shared by every bag
 * built on it. A token outside the vocabulary counts in `UNKNOWN_TOKEN`'s slot, except
 * argument tokens (`execve:…`): unseen ones are too varied to mean much, unseen calls and
 * n-grams do.
 */
export function slotLookup(vocabulary: readonly string[]): SlotLookup {
  let lookup = LOOKUPS.get(vocabulary);
  if (lookup === undefined) {
    const index = new Map(vocabulary.map((token, i) => [token, i]));
    const unknown = index.get(UNKNOWN_TOKEN) ?? -1;
    lookup = (token) => index.get(token) ?? (token.includes(':') ? -1 : unknown);
    LOOKUPS.set(vocabulary, lookup);
  }
  return lookup;
}
