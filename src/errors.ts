/**
 * Every error the project raises, in one table: code, exit/HTTP status and a hint that says
 * what to do next. `docs/errors.md` documents each code; a test keeps the two in step.
 */
export const ERRORS = {
  // usage and configuration (exit 2)
  FML_ERR_USAGE: { exitCode: 2, hint: 'Run `falco-ml <command> --help` for the accepted flags.' },
  FML_ERR_CONFIG_INVALID: { exitCode: 2, hint: 'Fix the named option; `--help` lists accepted values.' },
  // traces
  FML_ERR_TRACE_NOT_FOUND: { exitCode: 2, hint: 'Check the path; a folder is searched recursively for trace files.' },
  FML_ERR_TRACE_UNKNOWN_FORMAT: {
    exitCode: 1,
    hint: 'Pass --format sysdig-stripped|sysdig|sysdig-json|lidds|strace|sequence.',
  },
  FML_ERR_TRACE_EMPTY: { exitCode: 1, hint: 'The file has no line any reader could parse; check that it is a syscall trace.' },
  // data sets and labels
  FML_ERR_DATASET_EMPTY: { exitCode: 2, hint: 'Point --data at a folder with exec/ (attack) and normal/ sub-folders, or pass --manifest.' },
  FML_ERR_MANIFEST_INVALID: { exitCode: 2, hint: 'The manifest is CSV with the header path,label,group; label is attack or normal.' },
  FML_ERR_SPLIT_INVALID: { exitCode: 2, hint: 'The study split needs derived/split_seed42.csv and derived/histogramas_row_to_file.csv.' },
  // models
  FML_ERR_MODEL_UNKNOWN: { exitCode: 2, hint: 'Classifiers: ab, dt, mlp, nusv, rf, sgd, xgb, vote; normal-profile detectors: stide, bosc, autoencoder, novelty.' },
  FML_ERR_MODEL_FILE_INVALID: { exitCode: 1, hint: 'The model file is not a falco-ml model; retrain it with `falco-ml train`.' },
  FML_ERR_MODEL_FILE_VERSION: { exitCode: 1, hint: 'The model file was written by another format version; retrain it with this release.' },
  FML_ERR_MODEL_TRAIN: {
    exitCode: 1,
    hint: 'Training failed; check the training data (a classifier needs both classes, a normal-profile detector needs normal recordings long enough for its window).',
  },
  FML_ERR_BACKEND_UNAVAILABLE: { exitCode: 1, hint: 'Reinstall with `npm ci`; @tensorflow/tfjs and @tensorflow/tfjs-backend-wasm are required.' },
  // syscall feed
  FML_ERR_FEED_LISTEN: { exitCode: 1, hint: 'The feed socket path or port is in use or not writable; pick another --feed-socket or --feed-tcp.' },
  FML_ERR_FEED_TARGET: { exitCode: 2, hint: 'Use --to unix:PATH, tcp:HOST:PORT or http://HOST:PORT/feed.' },
  FML_ERR_FEED_UNREACHABLE: { exitCode: 1, hint: 'Start the sidecar with its feed enabled (--feed-socket, --feed-tcp or the HTTP listener) and check the --to address.' },
  // evaluation
  FML_ERR_PROTOCOL_UNKNOWN: { exitCode: 2, hint: 'Choose --protocol study, holdout, group-out, cv, online, cross or learn.' },
  // hybrid policies
  FML_ERR_POLICY_NOT_FOUND: { exitCode: 2, hint: 'Point --policies at a folder of policy YAML files (the default set is rules/policies/).' },
  FML_ERR_POLICY_INVALID: { exitCode: 2, hint: 'Fix the named file, line and key; docs/policies.md describes every key.' },
  // Falco alerts in, enriched alerts out
  FML_ERR_ALERT_NOT_JSON: { exitCode: 1, statusCode: 400, hint: 'Send one JSON object per request, as Falco http_output does with json_output: true.' },
  FML_ERR_ALERT_INVALID: { exitCode: 1, statusCode: 400, hint: 'Fix the named field; docs/delivery.md lists what a Falco alert must hold.' },
  FML_ERR_SPOOL_UNAVAILABLE: { exitCode: 1, hint: 'The spool directory cannot be created, read or written; check its path and permissions.' },
  // gRPC (Falco <= 0.43 in, the outputs service out)
  FML_ERR_GRPC_TLS: { exitCode: 2, hint: 'Give readable PEM files for the certificate, its key and the CA (--grpc-input-cert/-key/-ca, --grpc-output-cert/-key/-ca).' },
  FML_ERR_GRPC_LISTEN: { exitCode: 1, hint: 'The --grpc-output address is in use or not writable; pick another socket path or port.' },
} as const satisfies Record<string, { exitCode: 1 | 2; statusCode?: number; hint: string }>;

export type ErrorCode = keyof typeof ERRORS;

/** The one error class: library code throws it, only the CLI prints it. */
export class SidecarError extends Error {
  readonly code: ErrorCode;
  readonly hint: string;
  readonly exitCode: 1 | 2;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown; hint?: string }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'SidecarError';
    this.code = code;
    this.hint = options?.hint ?? ERRORS[code].hint;
    this.exitCode = ERRORS[code].exitCode;
  }
}

export function isSidecarError(err: unknown): err is SidecarError {
  return err instanceof SidecarError;
}
