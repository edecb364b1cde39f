/**
 * `HOST:PORT`, `[IPv6]:PORT` or `:PORT`. The host comes back as written (`''` for `:PORT`, which
 * listeners read as all interfaces); undefined when the text is none of these or the port is
 * above 65535.
 */
export function parseHostPort(text: string): { host: string; port: number } | undefined {
  const m = /^(?:\[([^\]]+)\]|([^:/[\]]*)):(\d{1,5})$/.exec(text);
  if (m === null || Number(m[3]) > 65535) return undefined;
  return { host: m[1] ?? m[2], port: Number(m[3]) };
}
