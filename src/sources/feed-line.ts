/**
 * One `SyscallEvent` as one feed line, shaped like `sysdig -j -pc` output of an exit event (Falco's
 * libraries are dropping enter events, so the feed carries calls as exits):
 * ```
 * {"evt.type":"openat","evt.dir":"<","thread.tid":536909,"container.id":"cdab6c786756","container.name":"wordpress","proc.name":"php","evt.rawtime":1712345678901234567}
 * ```
 * `evt.rawtime` is written from the `bigint` digits, so 64-bit nanosecond times survive exactly
 * (the reader in traces/sysdig-json.ts scans those digits back). Fields the event lacks are left out.
 */
import type { SyscallEvent } from '../traces/syscall-event.js';

/** Fields used when the event has none of its own. */
export interface FeedLineDefaults {
  /** `container.id` for events without one (replay's `--container`, or the file name). */
  containerId?: string;
  containerName?: string;
  /** `container.image.repository` (replay's `--image`): what `serve --learn` groups workloads by. */
  containerImage?: string;
}

/** A JSON string literal; plain ASCII names (the common case) skip `JSON.stringify`. */
function quote(s: string): string {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 32 || c > 126 || c === 34 || c === 92) return JSON.stringify(s);
  }
  return `"${s}"`;
}

/** The NDJSON line (without its newline) for one event. */
export function encodeFeedLine(event: SyscallEvent, defaults: FeedLineDefaults = {}): string {
  let line = `{"evt.type":${quote(event.name)},"evt.dir":"<"`;
  if (event.tid !== undefined) line += `,"thread.tid":${event.tid}`;
  if (event.pid !== undefined) line += `,"proc.pid":${event.pid}`;
  const containerId = event.containerId ?? defaults.containerId;
  if (containerId !== undefined) line += `,"container.id":${quote(containerId)}`;
  const containerName = event.containerName ?? defaults.containerName;
  if (containerName !== undefined) line += `,"container.name":${quote(containerName)}`;
  const containerImage = event.containerImage ?? defaults.containerImage;
  if (containerImage !== undefined) line += `,"container.image.repository":${quote(containerImage)}`;
  if (event.k8sNamespace !== undefined) line += `,"k8s.ns.name":${quote(event.k8sNamespace)}`;
  if (event.k8sPod !== undefined) line += `,"k8s.pod.name":${quote(event.k8sPod)}`;
  if (event.processName !== undefined) line += `,"proc.name":${quote(event.processName)}`;
  if (event.timeNs !== undefined) line += `,"evt.rawtime":${event.timeNs.toString()}`;
  if (event.args !== undefined) line += `,"evt.info":${quote(event.args)}`;
  return `${line}}`;
}
