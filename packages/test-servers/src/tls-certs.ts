import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runCommand } from './children.js';

/** Files of a test certificate authority and a server certificate it signed. */
export interface TestCertificates {
  /** Path of the CA certificate (PEM). */
  ca: string;
  /** Path of the server certificate (PEM), for `localhost` and `127.0.0.1`. */
  cert: string;
  /** Path of the server's private key (PEM). */
  key: string;
}

const OPENSSL_HINT = 'install openssl (`apt-get install openssl`, `brew install openssl`)';

/**
 * Generates, with `openssl`, a self-signed CA and a server certificate it
 * signs for `localhost` and `127.0.0.1` (P-256 keys, valid 2 days), as files
 * in `dir`.
 *
 * @throws Error when openssl is missing (with how to install it) or fails.
 *
 * @example
 * ```ts
 * const { ca, cert, key } = await makeCertificates(dir);
 * ```
 */
export async function makeCertificates(dir: string): Promise<TestCertificates> {
  const p = (f: string): string => join(dir, f);
  const openssl = (args: string[]): Promise<string> =>
    runCommand('openssl', args, { installHint: OPENSSL_HINT });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  await openssl([
    'req',
    '-x509',
    ...ec,
    '-keyout',
    p('ca.key'),
    '-out',
    p('ca.crt'),
    '-days',
    '2',
    '-subj',
    '/CN=yoink test CA',
  ]);
  await openssl([
    'req',
    ...ec,
    '-keyout',
    p('server.key'),
    '-out',
    p('server.csr'),
    '-subj',
    '/CN=localhost',
  ]);
  await writeFile(p('server.ext'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
  await openssl([
    'x509',
    '-req',
    '-in',
    p('server.csr'),
    '-CA',
    p('ca.crt'),
    '-CAkey',
    p('ca.key'),
    '-CAcreateserial',
    '-out',
    p('server.crt'),
    '-days',
    '2',
    '-extfile',
    p('server.ext'),
  ]);
  return { ca: p('ca.crt'), cert: p('server.crt'), key: p('server.key') };
}
