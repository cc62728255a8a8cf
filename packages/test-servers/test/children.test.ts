import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { waitUntil } from '../src/wait-until.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/start-and-exit.mjs', import.meta.url));

/** Resolves `true` when something accepts a TCP connection on the port, `false` when it is refused. */
function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

let child: ChildProcess | undefined;

afterEach(() => {
  // The fixture's process group: whatever it left running goes with it.
  if (child?.pid !== undefined) {
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      // Nothing left in the group.
    }
  }
  child = undefined;
});

describe('the exit hook', () => {
  it('takes down moto_server, redis-server and azurite-blob when the process that started them exits', {
    timeout: 90_000,
  }, async () => {
    child = spawn(process.execPath, [FIXTURE], {
      detached: true,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout?.setEncoding('utf8');
    child.stdout?.on('data', (d: string) => {
      out += d;
    });
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(code).toBe(0);
    const ports = JSON.parse(out) as { moto: number; redis: number; azurite: number };
    for (const [name, port] of Object.entries(ports)) {
      await waitUntil(`${name} on port ${port} to go away`, async () => !(await listening(port)), {
        timeoutMs: 15_000,
      });
    }
  });
});
