import { SidecarError } from '../errors.js';
import { adaBoostSpec } from './adaboost.js';
import { CLASSIFIER_KINDS, type ClassifierKind, type ClassifierSpec } from './classifier.js';
import { decisionTreeSpec } from './decision-tree.js';
import { gradientBoostingSpec } from './gradient-boosting.js';
import { mlpSpec } from './mlp.js';
import { nuSvcSpec } from './nu-svc.js';
import { randomForestSpec } from './random-forest.js';
import { sgdSpec } from './sgd.js';
import { voteSpec } from './vote.js';

/** The classifier registry: a new classifier is one file plus one line here. */
const SPECS: Readonly<Record<ClassifierKind, ClassifierSpec>> = Object.freeze({
  ab: adaBoostSpec,
  dt: decisionTreeSpec,
  mlp: mlpSpec,
  nusv: nuSvcSpec,
  rf: randomForestSpec,
  sgd: sgdSpec,
  xgb: gradientBoostingSpec,
  vote: voteSpec,
});

export function isClassifierKind(kind: string): kind is ClassifierKind {
  return (CLASSIFIER_KINDS as readonly string[]).includes(kind);
}

/** @throws SidecarError FML_ERR_MODEL_UNKNOWN for a kind not in the registry */
export function getClassifierSpec(kind: string): ClassifierSpec {
  if (!isClassifierKind(kind)) {
    throw new SidecarError('FML_ERR_MODEL_UNKNOWN', `unknown model "${kind}"; choose one of ${CLASSIFIER_KINDS.join(', ')}`);
  }
  return SPECS[kind];
}

export { CLASSIFIER_KINDS };
export type { ClassifierKind };
