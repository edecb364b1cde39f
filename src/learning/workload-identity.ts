/**
 * Which workload a container belongs to. Profiles are learned per workload, not per container,
 * so one replica's profile serves its siblings and survives restarts and rollouts.
 */
export const WORKLOAD_KEY_MODES = ['image', 'k8s', 'container'] as const;
export type WorkloadKeyMode = (typeof WORKLOAD_KEY_MODES)[number];

// A Deployment's pods are `<name>-<replicaset hash>-<5 chars>`, a StatefulSet's `<name>-<ordinal>`,
// a DaemonSet's `<name>-<5 chars>`.
const DEPLOYMENT_POD = /^(.+)-[a-z0-9]{6,10}-[a-z0-9]{5}$/;
const STATEFUL_POD = /^(.+)-\d+$/;
const DAEMONSET_POD = /^(.+)-[a-z0-9]{5}$/;

/** The workload (Deployment, StatefulSet, DaemonSet) name a pod name stands for. */
export function workloadName(pod: string): string {
  return DEPLOYMENT_POD.exec(pod)?.[1] ?? STATEFUL_POD.exec(pod)?.[1] ?? DAEMONSET_POD.exec(pod)?.[1] ?? pod;
}

/**
 * The workload key of a container from what the feed tells about it:
 * - `image`: the image repository (`wordpress`, `docker.io/library/wordpress`), tag dropped;
 * - `k8s`: `namespace/workload` from the pod name, falling back to the image outside Kubernetes;
 * - `container`: the container id itself (one profile per container, lost with it).
 * Undefined when the feed gives none of the fields the mode needs: such a container belongs to
 * no workload (a profile keyed by its id could serve no other container, and a file per
 * container id would pile up on disk as containers come and go).
 */
export function workloadKey(mode: WorkloadKeyMode, containerId: string, fields: Readonly<Record<string, string>>): string | undefined {
  const image = fields['container.image.repository'];
  if (mode === 'k8s') {
    const ns = fields['k8s.ns.name'];
    const pod = fields['k8s.pod.name'];
    if (ns !== undefined && pod !== undefined) return `k8s:${ns}/${workloadName(pod)}`;
  }
  if (mode === 'container') return `container:${containerId}`;
  return image !== undefined && image !== '' ? `image:${image}` : undefined;
}
