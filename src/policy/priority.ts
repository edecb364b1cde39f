import { FALCO_PRIORITIES, type FalcoPriority } from '../falco/alert.js';
import { normalizePriority } from '../falco/sidekick-payload.js';

/**
 * Priority names as policies may write them: Falco's JSON spelling (`Critical`), its rules-file
 * spelling (`CRITICAL`), lower case, and Falco's `INFO` shorthand for Informational.
 */
export const PRIORITY_SPELLINGS: readonly string[] = [
  ...FALCO_PRIORITIES.flatMap((p) => [p, p.toUpperCase(), p.toLowerCase()]),
  'Info',
  'INFO',
  'info',
];

/** Normalises any accepted spelling to Falco's Title-case; undefined for an unknown name. */
export function parsePriority(name: string): FalcoPriority | undefined {
  return name.toLowerCase() === 'info' ? 'Informational' : normalizePriority(name);
}

/** 0 for Emergency up to 7 for Debug, as in falco.schema.priority. */
export function priorityRank(priority: FalcoPriority): number {
  return FALCO_PRIORITIES.indexOf(priority);
}

/** Moves `steps` towards Emergency (positive) or Debug (negative), stopping at either end. */
export function shiftPriority(priority: FalcoPriority, steps: number): FalcoPriority {
  const rank = Math.min(FALCO_PRIORITIES.length - 1, Math.max(0, priorityRank(priority) - steps));
  return FALCO_PRIORITIES[rank];
}

/** True when `a` is at least as severe as `b`. */
export function isAtLeast(a: FalcoPriority, b: FalcoPriority): boolean {
  return priorityRank(a) <= priorityRank(b);
}
