// HEALTHCHECK of the falco-ml image: GET /healthz on the port of FALCO_ML_LISTEN (default 2803).
// Node, not curl: the slim base image has no curl. Exit 0 = healthy, 1 = unhealthy.
const listen = process.env.FALCO_ML_LISTEN || '0.0.0.0:2803';
const port = listen.slice(listen.lastIndexOf(':') + 1);
try {
  const res = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(2000) });
  process.exit(res.ok ? 0 : 1);
} catch {
  process.exit(1);
}
