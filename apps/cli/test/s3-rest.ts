/**
 * Plain REST calls to a test S3 server that does not check signatures (moto,
 * by default), for what a test sets up or inspects behind the CLI's back.
 * The CLI has no dependency on the AWS SDK (only its S3 backend has), so the
 * tests speak HTTP, as any S3 tool would.
 */

function objectUrl(endpoint: string, bucket: string, key: string): string {
  return `${endpoint}/${bucket}/${key.split('/').map(encodeURIComponent).join('/')}`;
}

async function ok(res: Response, what: string): Promise<string> {
  const text = await res.text();
  if (!res.ok) throw new Error(`${what}: HTTP ${res.status} ${text.slice(0, 300)}`);
  return text;
}

/** PutObject `key` with `body`. */
export async function putObject(
  endpoint: string,
  bucket: string,
  key: string,
  body: string,
): Promise<void> {
  await ok(await fetch(objectUrl(endpoint, bucket, key), { method: 'PUT', body }), `PUT ${key}`);
}

/** What a ListObjectsV2 of a prefix found. */
export interface Listing {
  /** Object keys (under `delimiter`, the ones directly under the prefix). */
  keys: string[];
  /** Common prefixes ("folders") when a delimiter was given, each ending in it. */
  prefixes: string[];
}

function decodeXml(text: string): string {
  return text
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, '&');
}

/** ListObjectsV2 of `prefix` (every page), optionally with a `delimiter`. */
export async function listObjects(
  endpoint: string,
  bucket: string,
  prefix: string,
  delimiter?: string,
): Promise<Listing> {
  const out: Listing = { keys: [], prefixes: [] };
  let token: string | undefined;
  do {
    const query = new URLSearchParams({ 'list-type': '2', prefix });
    if (delimiter) query.set('delimiter', delimiter);
    if (token) query.set('continuation-token', token);
    const xml = await ok(await fetch(`${endpoint}/${bucket}?${query}`), `LIST ${prefix}`);
    for (const m of xml.matchAll(/<Contents>[\s\S]*?<Key>([^<]*)<\/Key>/g)) {
      out.keys.push(decodeXml(m[1] as string));
    }
    for (const m of xml.matchAll(/<CommonPrefixes>\s*<Prefix>([^<]*)<\/Prefix>/g)) {
      out.prefixes.push(decodeXml(m[1] as string));
    }
    token = /<IsTruncated>true<\/IsTruncated>/.test(xml)
      ? decodeXml(/<NextContinuationToken>([^<]*)</.exec(xml)?.[1] ?? '')
      : undefined;
  } while (token);
  return out;
}
