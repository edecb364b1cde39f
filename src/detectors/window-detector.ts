import type { FeatureSpec } from '../features/feature-spec.js';
import type { Classifier, ClassifierKind, Json } from '../models/classifier.js';
import { explainScore } from '../models/explain.js';
import { getClassifierSpec } from '../models/index.js';
import { bagOf } from '../models/vote.js';
import { createBagWindow } from '../windows/bag-window.js';
import type { StreamState } from '../windows/window-tracker.js';
import { getProfileSpec } from './index.js';
import { callId, type NormalProfile, type ProfileContribution, type ProfileKind } from './normal-profile.js';

/** Per-stream state that can score the window ending at its latest call. */
export interface ScoringState extends StreamState {
  /** Probability-like score in [0, 1]: higher is more attack-like (or further from normal). */
  score(): number;
  /** The calls or tokens that drove the current score, most first (named in every alert). */
  explain(top: number): ProfileContribution[];
}

/** What a window detector stores in a model file: enough to rebuild it exactly. */
export type WindowDetectorBody =
  | { type: 'classifier'; features: FeatureSpec; classifier: { kind: ClassifierKind; hyper: { [key: string]: Json }; params: { [key: string]: Json } } }
  | { type: 'profile'; kind: ProfileKind; params: { [key: string]: Json } }
  | { type: 'any'; members: Array<{ detector: WindowDetectorBody; threshold: number }> };

/** A detector with the threshold its own alert rule was fitted at: one member of an `any` detector. */
export interface ThresholdedDetector {
  detector: WindowDetector;
  threshold: number;
}

/** The alert threshold of every `any` detector: each member's own threshold maps to it. */
export const ANY_THRESHOLD = 0.5;

/**
 * A member's score on the common scale of an `any` detector: piecewise linear, [0, threshold)
 * onto [0, 0.5) and [threshold, 1] onto [0.5, 1], so "at or above its own threshold" becomes
 * "at or above 0.5" for every member and the scale stays ordered within each.
 */
export function calibrate(score: number, threshold: number): number {
  if (score >= threshold) return threshold >= 1 ? 1 : ANY_THRESHOLD + (ANY_THRESHOLD * (score - threshold)) / (1 - threshold);
  return (ANY_THRESHOLD * score) / threshold;
}

/**
 * Detectors that alert when any of them would at its own threshold ("either fires"): a learned
 * profile with call novelty, or a learned profile with the shipped supervised model as a second
 * opinion. The score is the highest calibrated score among the members whose window is full
 * (its window is the shortest member's: a 100-call profile scores before a 250-call classifier
 * has a full bag, and a classifier never speaks on a partial one); before any window is full,
 * as when a short-lived container is scored on its way out, every member speaks. The
 * explanation is the top member's.
 */
export function anyWindowDetector(members: readonly ThresholdedDetector[]): WindowDetector {
  if (members.length === 0) throw new TypeError('an any-detector needs at least one member');
  const shortest = Math.min(...members.map((m) => m.detector.windowSize));
  return {
    name: members.map((m) => m.detector.name).join('+'),
    windowSize: shortest,
    createState() {
      const states = members.map((m) => m.detector.createState());
      let seen = 0;
      // The member that scores highest (each member scored once: a classifier's score builds its vector).
      let top = 0;
      const best = (): number => {
        const anyFull = seen >= shortest;
        let high = -1;
        for (let i = 0; i < states.length; i++) {
          if (anyFull && seen < members[i].detector.windowSize) continue;
          const s = calibrate(states[i].score(), members[i].threshold);
          if (s > high) {
            high = s;
            top = i;
          }
        }
        return high;
      };
      return {
        push(event) {
          let used = false;
          for (const state of states) used = state.push(event) || used;
          if (used) seen++;
          return used;
        },
        score: best,
        explain: (n) => {
          best();
          return states[top].explain(n);
        },
      };
    },
    toBody: () => ({ type: 'any', members: members.map((m) => ({ detector: m.detector.toBody(), threshold: m.threshold })) }),
  };
}

/** A trained window detector: what the online protocol and the sidecar replay calls through. */
export interface WindowDetector {
  readonly name: string;
  readonly windowSize: number;
  createState(): ScoringState;
  toBody(): WindowDetectorBody;
}

/** A normal-profile detector (trained on normal calls only) as a window detector. */
export function profileWindowDetector(profile: NormalProfile): WindowDetector {
  return {
    name: profile.kind,
    windowSize: profile.windowSize,
    createState() {
      const stream = profile.createStream();
      return {
        push(event) {
          if (event.kind !== 'syscall') return false;
          stream.push(callId(event.name));
          return true;
        },
        score: () => stream.score(),
        explain: (top) => stream.explain(top),
      };
    },
    toBody: () => ({ type: 'profile', kind: profile.kind, params: profile.toParams() }),
  };
}

/** A classifier window detector's name: `xgb-windows`, or `xgb-bag5-windows` for five averaged copies. */
export function classifierWindowName(kind: ClassifierKind, copies = 1): string {
  return copies === 1 ? `${kind}-windows` : `${kind}-bag${copies}-windows`;
}

/**
 * A classifier over the bag of a stream's last `spec.mode.size` calls. Explanations are
 * occlusion deltas: the tokens whose removal lowers the score most.
 */
export function classifierWindowDetector(spec: FeatureSpec, classifier: Classifier, hyper: { [key: string]: Json }): WindowDetector {
  if (spec.mode.kind !== 'window') throw new TypeError('a window detector needs a feature spec in window mode');
  const policy = { kind: 'count' as const, size: spec.mode.size, stride: spec.mode.stride };
  const copies = bagOf(classifier);
  return {
    name: classifierWindowName(copies?.kind ?? classifier.kind, copies?.copies),
    windowSize: spec.mode.size,
    createState() {
      const bag = createBagWindow(spec, policy);
      return {
        push: (event) => bag.push(event),
        score: () => classifier.predictProba(bag.vector()),
        explain: (top) =>
          explainScore(classifier, spec, bag.vector(), top)
            .filter((c) => c.delta > 0)
            .map((c) => ({ feature: c.feature, weight: c.delta })),
      };
    },
    toBody: () => ({ type: 'classifier', features: spec, classifier: { kind: classifier.kind, hyper, params: classifier.toParams() } }),
  };
}

/**
 * Rebuilds a detector from its stored body.
 * @throws SidecarError FML_ERR_MODEL_FILE_INVALID (via the registries) for unknown kinds or bad params
 */
export function windowDetectorFromBody(body: WindowDetectorBody): WindowDetector {
  if (body.type === 'profile') {
    return profileWindowDetector(getProfileSpec(body.kind).fromParams(body.params));
  }
  if (body.type === 'any') {
    return anyWindowDetector(body.members.map((m) => ({ detector: windowDetectorFromBody(m.detector), threshold: m.threshold })));
  }
  return classifierWindowDetector(body.features, getClassifierSpec(body.classifier.kind).fromParams(body.classifier.params), body.classifier.hyper);
}

/** The detector kinds inside a body, for people: `xgb`, `stide`, `novelty+stide`, `xgb bag of 5`, `vote(ab,xgb,mlp)`. */
export function describeBody(body: WindowDetectorBody): string {
  if (body.type === 'profile') return body.kind;
  if (body.type === 'classifier') return body.classifier.kind === 'vote' ? describeVote(body.classifier.params.members) : body.classifier.kind;
  return body.members.map((m) => describeBody(m.detector)).join('+');
}

/** A vote by its members' kinds; copies of one kind are a bag (`train --window --bag`). */
function describeVote(members: Json | undefined): string {
  const kinds = Array.isArray(members) ? members.map((m) => (typeof m === 'object' && m !== null && !Array.isArray(m) && typeof m.kind === 'string' ? m.kind : '?')) : [];
  return kinds.length > 1 && new Set(kinds).size === 1 ? `${kinds[0]} bag of ${kinds.length}` : `vote(${kinds.join(',')})`;
}

/** Whether any detector in the body reads argument tokens, so readers must keep arguments. */
export function bodyNeedsArgs(body: WindowDetectorBody): boolean {
  if (body.type === 'profile') return false;
  if (body.type === 'classifier') return body.features.tokens.args;
  return body.members.some((m) => bodyNeedsArgs(m.detector));
}
