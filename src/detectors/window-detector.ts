import type { FeatureSpec } from '../features/feature-spec.js';
import type { Classifier, ClassifierKind, Json } from '../models/classifier.js';
import { explainScore } from '../models/explain.js';
import { getClassifierSpec } from '../models/index.js';
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
  | { type: 'profile'; kind: ProfileKind; params: { [key: string]: Json } };

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

/**
 * A classifier over the bag of a stream's last `spec.mode.size` calls. Explanations are
 * occlusion deltas: the tokens whose removal lowers the score most.
 */
export function classifierWindowDetector(spec: FeatureSpec, classifier: Classifier, hyper: { [key: string]: Json }): WindowDetector {
  if (spec.mode.kind !== 'window') throw new TypeError('a window detector needs a feature spec in window mode');
  const policy = { kind: 'count' as const, size: spec.mode.size, stride: spec.mode.stride };
  return {
    name: `${classifier.kind}-windows`,
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
  return classifierWindowDetector(body.features, getClassifierSpec(body.classifier.kind).fromParams(body.classifier.params), body.classifier.hyper);
}
