import { SidecarError } from '../errors.js';
import { autoencoderSpec } from './autoencoder.js';
import { boscSpec } from './bosc.js';
import { noveltySpec } from './novelty.js';
import { PROFILE_KINDS, type NormalProfileSpec, type ProfileKind } from './normal-profile.js';
import { stideSpec } from './stide.js';

/** The normal-profile registry: a new detector is one file plus one line here. */
const SPECS: Readonly<Record<ProfileKind, NormalProfileSpec>> = Object.freeze({
  stide: stideSpec,
  bosc: boscSpec,
  autoencoder: autoencoderSpec,
  novelty: noveltySpec,
});

export function isProfileKind(kind: string): kind is ProfileKind {
  return (PROFILE_KINDS as readonly string[]).includes(kind);
}

/** @throws SidecarError FML_ERR_MODEL_UNKNOWN for a kind not in the registry */
export function getProfileSpec(kind: string): NormalProfileSpec {
  if (!isProfileKind(kind)) throw new SidecarError('FML_ERR_MODEL_UNKNOWN', `unknown detector "${kind}"; choose one of ${PROFILE_KINDS.join(', ')}`);
  return SPECS[kind];
}
