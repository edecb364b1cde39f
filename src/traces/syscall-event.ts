/**
 * One system call (or one recorder-only event) as every reader emits it. Readers emit one
 * event per *call*: an enter/exit pair becomes one event, an exit-only stream works the same.
 */
export interface SyscallEvent {
  /** Canonical x86-64 syscall name (`openat`, `accept4`), or the recorder's event name when `kind` is `other`. */
  name: string;
  /** `syscall` for a kernel system call; `other` for recorder events (sysdig `switch`, `procexit`, strace signals). */
  kind: 'syscall' | 'other';
  /** Nanoseconds since the epoch (or since an arbitrary origin when the recorder gives only a clock time). */
  timeNs?: bigint;
  /** Container id (sysdig -pc, Falco feed) when the recorder gives it. */
  containerId?: string;
  containerName?: string;
  /** Image repository (`container.image.repository`, else `container.image`), when the feed gives it. */
  containerImage?: string;
  /** Kubernetes namespace (`k8s.ns.name`), when the feed gives it. */
  k8sNamespace?: string;
  /** Kubernetes pod name (`k8s.pod.name`), when the feed gives it. */
  k8sPod?: string;
  processName?: string;
  pid?: number;
  tid?: number;
  /** The call's arguments as the recorder printed them (enter args joined with exit args), when kept. */
  args?: string;
}

/** A line no reader could turn into an event: reported with its place, never fatal. */
export interface SkippedLine {
  line: number;
  reason: string;
  text: string;
}
