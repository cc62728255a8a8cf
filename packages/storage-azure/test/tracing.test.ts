import diagnostics from 'node:diagnostics_channel';
import {
  ContainerSASPermissions,
  generateBlobSASQueryParameters,
  StorageSharedKeyCredential,
} from '@azure/storage-blob';
import {
  ConcurrentWriterError,
  type StorageTraceContext,
  TRACING_CHANNELS,
} from '@yoink/storage-core';
import { collectLines } from '@yoink/storage-testkit';
import { afterEach, beforeAll, expect, it } from 'vitest';
import { AzureBlobStorage } from '../src/index.js';
import { azurite, createContainer, FAST_RETRIES } from './helpers.js';

const CONTAINER = 'tracing';
type Event = { name: string; ctx: StorageTraceContext };
let stop: () => void = () => {};

beforeAll(async () => {
  await createContainer(CONTAINER);
});
afterEach(() => stop());

/** Records the events of core's tracing channels (copies: the context object is filled in as it goes). */
function subscribe(): Event[] {
  const events: Event[] = [];
  const stops: Array<() => void> = [];
  for (const name of Object.values(TRACING_CHANNELS)) {
    const channel = diagnostics.tracingChannel(name);
    const record = (phase: string) => (ctx: unknown) =>
      events.push({ name: `${name}:${phase}`, ctx: { ...(ctx as StorageTraceContext) } });
    const handlers = {
      start: record('start'),
      end: () => {},
      asyncStart: () => {},
      asyncEnd: record('asyncEnd'),
      error: record('error'),
    };
    channel.subscribe(handlers);
    stops.push(() => channel.unsubscribe(handlers));
  }
  stop = () => {
    for (const s of stops) s();
  };
  return events;
}

/** A storage signed by a SAS in options.endpoint (a secret that must not reach any event). */
function withSas(blob: string): { storage: AzureBlobStorage; sig: string } {
  const sas = generateBlobSASQueryParameters(
    {
      containerName: CONTAINER,
      permissions: ContainerSASPermissions.parse('racw'),
      expiresOn: new Date(Date.now() + 3_600_000),
    },
    new StorageSharedKeyCredential(azurite.account, azurite.accountKey),
  );
  const storage = new AzureBlobStorage(`azblob://${CONTAINER}/${blob}?account=devstoreaccount1`, {
    endpoint: `${azurite.endpoint}?${sas.toString()}`,
    clientOptions: FAST_RETRIES,
  });
  return { storage, sig: sas.signature };
}

it('open, flush, read and close publish their events with the URI, the backend, bytes and lines; no credential in any of them', async () => {
  const events = subscribe();
  const { storage: s, sig } = withSas('traced.jsonl');
  const uri = `azblob://${CONTAINER}/traced.jsonl?account=devstoreaccount1`;
  await s.write('{"a":1}\n{"b":22}\n');
  await s.flush();
  await s.write('{"c":333}\n');
  await s.close();
  expect(await collectLines(s.read())).toEqual(['{"a":1}', '{"b":22}', '{"c":333}']);

  const ends = events.filter((e) => e.name.endsWith(':asyncEnd')).map((e) => e.ctx);
  expect(ends.map((c) => c.operation)).toEqual([
    'open',
    'flush',
    'flush',
    'close',
    // One event per chunk read (the checkpoint is one small chunk), then one with done.
    ...ends.filter((c) => c.operation === 'read').map(() => 'read'),
  ]);
  for (const c of ends) {
    expect(c.backend).toBe('AzureBlobStorage');
    expect(c.uri).toBe(uri);
  }
  expect(ends[0]).toMatchObject({ operation: 'open', tornTail: false });
  expect(ends[1]).toMatchObject({ operation: 'flush', bytes: 17, lines: 2 });
  expect(ends[2]).toMatchObject({ operation: 'flush', bytes: 10, lines: 1 });
  const reads = ends.filter((c) => c.operation === 'read');
  expect(reads.at(-1)).toMatchObject({ done: true });
  expect(reads.reduce((sum, c) => sum + (c.bytes ?? 0), 0)).toBe(27);
  expect(reads.reduce((sum, c) => sum + (c.lines ?? 0), 0)).toBe(3);
  const printed = JSON.stringify(events);
  expect(printed).not.toContain(sig);
  expect(printed).not.toContain(encodeURIComponent(sig));
  expect(printed).not.toContain('sig=');
});

it('a flush refused because another writer took over publishes an error event with the ConcurrentWriterError', async () => {
  const events = subscribe();
  const a = withSas('traced-two.jsonl').storage;
  const b = withSas('traced-two.jsonl').storage;
  await a.write('a\n');
  await b.write('b\n');
  await a.flush();
  await expect(b.flush()).rejects.toSatisfy((e) => ConcurrentWriterError.isInstance(e));
  const error = events.find((e) => e.name === `${TRACING_CHANNELS.flush}:error`);
  expect(error?.ctx.operation).toBe('flush');
  expect(ConcurrentWriterError.isInstance(error?.ctx.error)).toBe(true);
  await a.close();
  await b.close().catch(() => {});
});
