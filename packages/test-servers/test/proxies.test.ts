import { once } from 'node:events';
import { Agent, createServer as createHttpServer, type IncomingMessage, request } from 'node:http';
import { type AddressInfo, connect, createServer, type Server, type Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  FreezingProxy,
  failNext,
  type HttpFaultProxy,
  type LatencyProxy,
  startHttpFaultProxy,
  startLatencyProxy,
  TcpFaultProxy,
} from '../src/proxies.js';

/** A TCP server that answers each chunk with `R:<chunk>`, and closes after a chunk containing `BYE`. */
const tcpServer: Server = createServer((socket) => {
  socket.on('data', (d: Buffer) => {
    tcpReceived.push(d.toString());
    socket.write(`R:${d.toString()}`);
    if (d.toString().includes('BYE')) socket.end();
  });
  socket.on('error', () => {});
});
let tcpReceived: string[] = [];
let tcpPort = 0;

beforeAll(async () => {
  tcpServer.listen(0, '127.0.0.1');
  await once(tcpServer, 'listening');
  tcpPort = (tcpServer.address() as AddressInfo).port;
});

afterAll(() => {
  tcpServer.close();
});

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  tcpReceived = [];
});

/** A client connection that collects what it receives and resolves waits on it. */
async function client(port: number): Promise<{
  socket: Socket;
  text: () => string;
  receivedAtLeast: (n: number) => Promise<void>;
  closed: Promise<void>;
}> {
  const socket = connect({ host: '127.0.0.1', port });
  cleanups.push(() => {
    socket.destroy();
  });
  await once(socket, 'connect');
  let text = '';
  const waiting: { n: number; resolve: () => void }[] = [];
  socket.on('data', (d: Buffer) => {
    text += d.toString();
    for (const w of waiting.filter((x) => text.length >= x.n)) w.resolve();
  });
  socket.on('error', () => {});
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  return {
    socket,
    text: () => text,
    receivedAtLeast: (n) =>
      text.length >= n ? Promise.resolve() : new Promise((resolve) => waiting.push({ n, resolve })),
    closed,
  };
}

describe('FreezingProxy', () => {
  it('forwards both ways until the trigger, lets replyBytes of the reply through, holds the rest until thaw()', async () => {
    const proxy = await FreezingProxy.start(tcpPort, /FREEZE/, { replyBytes: 4 });
    cleanups.push(() => proxy.stop());
    const c = await client(proxy.port);
    c.socket.write('hello');
    await c.receivedAtLeast('R:hello'.length);
    c.socket.write('xx FREEZE yy');
    await proxy.frozen;
    await c.receivedAtLeast('R:hello'.length + 4);
    // The server answered in one chunk: its first 4 bytes got through, the rest is held.
    expect(proxy.heldBytes).toBe('R:xx FREEZE yy'.length - 4);
    expect(c.text()).toBe('R:helloR:xx');
    expect(tcpReceived).toEqual(['hello', 'xx FREEZE yy']);
    proxy.thaw();
    await c.receivedAtLeast('R:helloR:xx FREEZE yy'.length);
    expect(c.text()).toBe('R:helloR:xx FREEZE yy');
    c.socket.write('after');
    await c.receivedAtLeast('R:helloR:xx FREEZE yyR:after'.length);
  });

  it('holds the server closing a connection while frozen until thaw() with holdServerCloses', async () => {
    const proxy = await FreezingProxy.start(tcpPort, /BYE/, {
      replyBytes: 1,
      holdServerCloses: true,
    });
    cleanups.push(() => proxy.stop());
    const c = await client(proxy.port);
    let thawed = false;
    const closedAfterThaw = c.closed.then(() => thawed);
    c.socket.write('BYE');
    await proxy.frozen;
    await vi.waitFor(() => expect(proxy.heldCloses).toBe(1));
    expect(c.socket.destroyed).toBe(false);
    proxy.thaw();
    thawed = true;
    expect(await closedAfterThaw).toBe(true);
    expect(c.text()).toBe('R:BYE');
  });

  it('lets the server closing a connection through while frozen by default', async () => {
    const proxy = await FreezingProxy.start(tcpPort, /BYE/);
    cleanups.push(() => proxy.stop());
    const c = await client(proxy.port);
    c.socket.write('BYE');
    await proxy.frozen;
    await c.closed;
    // The reply was held, and the close dropped it: the server's host is gone.
    expect(c.text()).toBe('');
  });

  it('cut() closes open connections and refuses new ones', async () => {
    const proxy = await FreezingProxy.start(tcpPort, /never/);
    const c = await client(proxy.port);
    await proxy.cut();
    await c.closed;
    const refused = connect({ host: '127.0.0.1', port: proxy.port });
    const [error] = (await once(refused, 'error')) as [NodeJS.ErrnoException];
    expect(error.code).toBe('ECONNREFUSED');
    await proxy.cut();
  });
});

describe('TcpFaultProxy', () => {
  it('forwards an armed request to the server, drops its reply and cuts the client', async () => {
    const proxy = await TcpFaultProxy.start(tcpPort);
    cleanups.push(() => proxy.stop());
    const c = await client(proxy.port);
    c.socket.write('first');
    await c.receivedAtLeast('R:first'.length);
    proxy.arm(/boom/, 1);
    c.socket.write('boom 1');
    await c.receivedAtLeast('R:firstR:boom 1'.length);
    c.socket.write('boom 2');
    await c.closed;
    expect(c.text()).toBe('R:firstR:boom 1');
    expect(tcpReceived).toEqual(['first', 'boom 1', 'boom 2']);
    expect(proxy.dropped).toBe(1);
    expect(proxy.connections).toBe(1);
  });

  it('closes new connections at once while refuse is set', async () => {
    const proxy = await TcpFaultProxy.start(tcpPort);
    cleanups.push(() => proxy.stop());
    proxy.refuse = true;
    const c = await client(proxy.port);
    await c.closed;
    expect(proxy.connections).toBe(0);
    proxy.refuse = false;
    const again = await client(proxy.port);
    again.socket.write('ok');
    await again.receivedAtLeast('R:ok'.length);
    expect(proxy.connections).toBe(1);
  });
});

describe('startHttpFaultProxy', () => {
  let upstreamRequests: string[] = [];
  const http = createHttpServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (d: string) => {
      body += d;
    });
    req.on('end', () => {
      upstreamRequests.push(`${req.method} ${req.url} ${body}`);
      res.writeHead(200, { 'content-type': 'text/plain', connection: 'close' });
      res.end(`ok ${req.url}`);
    });
  });
  let target = '';
  let proxy: HttpFaultProxy<'put' | 'other'>;

  beforeAll(async () => {
    http.listen(0, '127.0.0.1');
    await once(http, 'listening');
    target = `http://127.0.0.1:${(http.address() as AddressInfo).port}/account`;
    proxy = await startHttpFaultProxy({
      target,
      classify: (req) => (req.method === 'PUT' ? 'put' : 'other'),
      errorReply: (code) => ({ headers: { 'x-error-code': code }, body: `<E>${code}</E>` }),
    });
  });

  afterAll(async () => {
    await proxy.stop();
    http.close();
  });

  afterEach(() => {
    proxy.decide = () => 'pass';
    proxy.seen.length = 0;
    upstreamRequests = [];
  });

  function send(
    method: string,
    path: string,
    body = '',
    agent?: Agent,
  ): Promise<{ status: number; headers: IncomingMessage['headers']; text: string }> {
    return new Promise((resolve, reject) => {
      const req = request(`${proxy.endpoint}${path}`, { method, agent }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => {
          text += d;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
      });
      req.on('error', reject);
      req.end(body);
    });
  }

  it('keeps the target path on its endpoint, passes requests and records each with its bytes', async () => {
    expect(proxy.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/account$/);
    const res = await send('PUT', '/blob?comp=x', 'twelve bytes');
    expect(res).toMatchObject({ status: 200, text: 'ok /account/blob?comp=x' });
    // Hop-by-hop headers stay on their hop.
    expect(res.headers.connection).not.toBe('close');
    expect(proxy.seen).toEqual([
      { method: 'PUT', url: '/account/blob?comp=x', kind: 'put', bytesUp: 12, bytesDown: 23 },
    ]);
  });

  it('answers an injected error without forwarding, and failNext fails only the next requests of a kind', async () => {
    failNext(proxy, 'put', { status: 503, code: 'ServerBusy' });
    expect(await send('GET', '/a')).toMatchObject({ status: 200 });
    const failed = await send('PUT', '/b', 'x');
    expect(failed).toMatchObject({ status: 503, text: '<E>ServerBusy</E>' });
    expect(failed.headers['x-error-code']).toBe('ServerBusy');
    expect(await send('PUT', '/c', 'y')).toMatchObject({ status: 200 });
    expect(upstreamRequests).toEqual(['GET /account/a ', 'PUT /account/c y']);
  });

  it('loses a reply after the server applied the request, or drops the connection', async () => {
    proxy.decide = () => 'lose-reply';
    expect(await send('PUT', '/lost', 'z')).toMatchObject({
      status: 500,
      text: '<E>InternalError</E>',
    });
    proxy.decide = () => 'drop-reply';
    await expect(send('PUT', '/dropped', 'w')).rejects.toThrow(/socket hang up/);
    expect(upstreamRequests).toEqual(['PUT /account/lost z', 'PUT /account/dropped w']);
  });

  it('holds a hung request until its client gives up on it', async () => {
    proxy.decide = () => 'hang';
    const controller = new AbortController();
    const req = request(`${proxy.endpoint}/hung`, { signal: controller.signal });
    req.on('error', () => {});
    req.end();
    await proxy.hangingReaches(1);
    expect(proxy.hanging).toBe(1);
    controller.abort();
    await proxy.noneHanging();
    await proxy.allClosed();
    expect(proxy.openConnections).toBe(0);
    expect(upstreamRequests).toEqual([]);
  });

  it('records what record() returns', async () => {
    const lines = await startHttpFaultProxy({
      target,
      record: (r) => `${r.method} ${r.url}`,
    });
    cleanups.push(() => lines.stop());
    const res = await new Promise<number>((resolve, reject) => {
      request(`${lines.endpoint}/x`, (r) => {
        r.resume();
        r.on('end', () => resolve(r.statusCode ?? 0));
      })
        .on('error', reject)
        .end();
    });
    expect(res).toBe(200);
    expect(lines.seen).toEqual(['GET /account/x']);
  });
});

describe('startLatencyProxy', () => {
  const server = createHttpServer((req, res) => {
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

  function send(agent: Agent, method: string, path: string, body = ''): Promise<string> {
    return new Promise((resolve, reject) => {
      const req = request(new URL(path, proxy.endpoint), { method, agent }, (res) => {
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
});
