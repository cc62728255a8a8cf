const SECRET_PARAM = /pass|secret|token|credential|signature|sig$|^key$|apikey|api_key|auth/i;
// `key` names a Redis key in our URIs, not a secret; everything else above is redacted.
const NOT_SECRET = new Set(['key']);
const MASK = '***';

/**
 * Returns `uri` with every credential replaced by `***`, so it can go into an
 * error message or a log line.
 *
 * - `scheme://user:password@host` keeps the user name and masks the password.
 * - `scheme://token@host` (userinfo without a colon) is masked whole, since a
 *   lone userinfo is often a token.
 * - Query parameters whose name looks secret (`password`, `secret`, `token`,
 *   `X-Amz-Signature`, `accessKeyId`…) are masked.
 *
 * Plain paths (`./crawl.jsonl`, `C:\crawl.jsonl`) come back unchanged. Works on
 * strings that are not valid URLs, too.
 *
 * @example
 * ```ts
 * redactUri('redis://app:hunter2@cache:6379/0?key=crawl');
 * // 'redis://app:***@cache:6379/0?key=crawl'
 * ```
 */
export function redactUri(uri: string): string {
  if (typeof uri !== 'string') return String(uri);
  // userinfo: everything between "//" and the last "@" before the path.
  let out = uri.replace(
    /^([a-zA-Z][a-zA-Z0-9+.-]*:\/\/)([^/?#]*)@/,
    (_m, prefix: string, info: string) => {
      const colon = info.indexOf(':');
      if (colon === -1) return `${prefix}${MASK}@`;
      const user = info.slice(0, colon);
      return `${prefix}${user}:${MASK}@`;
    },
  );
  out = out.replace(/([?&])([^=&#]+)=([^&#]*)/g, (m, sep: string, name: string) => {
    let decoded = name;
    try {
      decoded = decodeURIComponent(name);
    } catch {
      // keep the raw name
    }
    if (NOT_SECRET.has(decoded)) return m;
    if (SECRET_PARAM.test(decoded) || /accesskey|access_key|secretkey/i.test(decoded)) {
      return `${sep}${name}=${MASK}`;
    }
    return m;
  });
  return out;
}

/**
 * Removes every occurrence of the secrets found in `uri` (its password, and
 * secret query values) from `text`. Used to scrub messages that come from
 * client libraries, which sometimes echo the connection string.
 */
export function scrubSecrets(text: string, uri: string | undefined): string {
  if (!uri || !text) return text;
  const secrets: string[] = [];
  const m = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\/([^/?#]*)@/.exec(uri);
  if (m?.[1]) {
    const info = m[1];
    const colon = info.indexOf(':');
    const secret = colon === -1 ? info : info.slice(colon + 1);
    if (secret) {
      secrets.push(secret);
      try {
        secrets.push(decodeURIComponent(secret));
      } catch {
        // raw form only
      }
    }
  }
  for (const q of uri.matchAll(/[?&]([^=&#]+)=([^&#]*)/g)) {
    const name = q[1] ?? '';
    const value = q[2] ?? '';
    if (value && !NOT_SECRET.has(name) && SECRET_PARAM.test(name)) secrets.push(value);
  }
  let out = text;
  for (const s of secrets) {
    if (s.length >= 3) out = out.split(s).join(MASK);
  }
  return out;
}
