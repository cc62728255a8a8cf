// A minimal npm registry on 127.0.0.1 for installers that only install from a
// registry (Deno's `npm:` specifiers). It serves our packed tarballs, and any
// other package from an npm-installed project's flat node_modules (packed on
// demand with `npm pack`), so it needs no network and serves exactly the
// versions npm chose. Only what installing our packages needs: GET of a
// packument (one version, `latest`) and of a tarball.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/**
 * Starts the registry. `tarballs`: package name → packed tarball (ours);
 * `nodeModules`: a flat node_modules holding every dependency they need.
 * Resolves with its URL (ending in `/`) and `stop()`.
 */
export async function startLocalRegistry(tarballs, nodeModules) {
  const packDir = await mkdtemp(join(tmpdir(), 'yoink-registry-'));
  /** name → promise of { manifest, file } (packed once, even when asked twice at once). */
  const packed = new Map();

  function tarballOf(name) {
    let entry = packed.get(name);
    if (!entry) {
      entry = pack(name);
      packed.set(name, entry);
    }
    return entry;
  }

  async function pack(name) {
    let file = tarballs[name];
    if (!file) {
      const dir = join(nodeModules, ...name.split('/'));
      if (!existsSync(join(dir, 'package.json'))) return undefined;
      const { stdout } = await execFileAsync(
        'npm',
        ['pack', dir, '--pack-destination', packDir, '--ignore-scripts', '--json'],
        { cwd: packDir },
      );
      file = join(packDir, JSON.parse(stdout)[0].filename);
    }
    const { stdout: json } = await execFileAsync('tar', ['-xzOf', file, 'package/package.json']);
    return { manifest: JSON.parse(json), file };
  }

  const server = createServer((req, res) => {
    const fail = (status, message) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: message }));
    };
    const path = decodeURIComponent((req.url ?? '/').split('?')[0]).slice(1);
    const base = `http://127.0.0.1:${server.address().port}`;
    (async () => {
      if (path.startsWith('-/tarball/')) {
        const entry = await tarballOf(path.slice('-/tarball/'.length));
        if (!entry) return fail(404, 'not found');
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        res.end(await readFile(entry.file));
        return;
      }
      const entry = await tarballOf(path);
      if (!entry) return fail(404, 'not found');
      const bytes = readFileSync(entry.file);
      const { manifest } = entry;
      const version = {
        ...manifest,
        _id: `${manifest.name}@${manifest.version}`,
        dist: {
          tarball: `${base}/-/tarball/${manifest.name}`,
          integrity: `sha512-${createHash('sha512').update(bytes).digest('base64')}`,
          shasum: createHash('sha1').update(bytes).digest('hex'),
        },
      };
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          name: manifest.name,
          'dist-tags': { latest: manifest.version },
          versions: { [manifest.version]: version },
        }),
      );
    })().catch((e) => fail(500, String(e)));
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}/`,
    async stop() {
      await new Promise((resolve) => server.close(resolve));
      await rm(packDir, { recursive: true, force: true });
    },
  };
}
