import { once } from 'node:events';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type LatencyProxy, startLatencyProxy } from './latency-proxy.js';

const server = createServer((req, res) => {
  let body = '';
  req.setEncoding('utf8');
  req.on('data', (d: string) => {
    body += d;
  });
  // A reply in many TCP segments, so the proxy relays more than one chunk.
  req.on('end', () => res.end(`${req.method} ${req.url} ${body.length} `.repeat(20_000)));
});
let proxy: LatencyProxy;

beforeAll(async () => {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  proxy = await startLatencyProxy((server.address() as AddressInfo).port, 5);
});

afterAll(async () => {
  await proxy.stop();
  server.close();
});

function send(
  agent: import('node:http').Agent,
  method: string,
  path: string,
  body = '',
): Promise<string> {
  const url = new URL(path, proxy.endpoint);
  return new Promise((resolve, reject) => {
    const req = request(url, { method, agent }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        text += d;
      });
      res.on('end', () => resolve(text));
    });
    req.on('error', reject);
    req.end(body);
  });
}

it('forwards requests and replies unchanged, and delays each request of a kept-alive connection once', async () => {
  const { Agent } = await import('node:http');
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const before = proxy.requests;
  expect(await send(agent, 'GET', '/a')).toBe('GET /a 0 '.repeat(20_000));
  expect(await send(agent, 'PUT', '/b', 'x'.repeat(1_000_000))).toBe(
    'PUT /b 1000000 '.repeat(20_000),
  );
  expect(await send(agent, 'GET', '/c')).toBe('GET /c 0 '.repeat(20_000));
  expect(proxy.requests - before).toBe(3);
  agent.destroy();
});
