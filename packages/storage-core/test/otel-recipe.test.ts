import diagnostics from 'node:diagnostics_channel';
import { readFileSync } from 'node:fs';
import { context, type Span, SpanStatusCode, type Tracer } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MemoryStorage, StorageFactory, type StorageTraceContext } from '../src/index.js';

// The recipe of docs/tracing.md, verbatim between the markers (a test below
// checks that the document shows exactly this code, after its imports). It is
// application code: the packages never depend on OpenTelemetry.
// recipe:start
/** Turns yoink's storage tracing channels into spans; returns a function that stops. */
function traceYoinkStorage(tracer: Tracer): () => void {
  const spans = new WeakMap<object, Span>();
  const stops = ['open', 'flush', 'read', 'close'].map((operation) => {
    const channel = diagnostics.tracingChannel<unknown, StorageTraceContext>(
      `yoink:storage:${operation}`,
    );
    const handlers = {
      // Runs in the caller's context, so the span nests under the active one.
      start(ctx: StorageTraceContext) {
        const attributes = { 'yoink.storage.backend': ctx.backend, 'yoink.storage.uri': ctx.uri };
        spans.set(ctx, tracer.startSpan(`yoink.storage.${operation}`, { attributes }));
      },
      end() {},
      asyncStart() {},
      error(ctx: StorageTraceContext) {
        const span = spans.get(ctx);
        span?.recordException(ctx.error as Error);
        span?.setStatus({ code: SpanStatusCode.ERROR, message: (ctx.error as Error)?.message });
      },
      asyncEnd(ctx: StorageTraceContext) {
        const span = spans.get(ctx);
        for (const key of ['bytes', 'lines', 'tornTail', 'done'] as const) {
          const value = ctx[key];
          if (value !== undefined) span?.setAttribute(`yoink.storage.${key}`, value);
        }
        span?.end();
      },
    };
    channel.subscribe(handlers);
    return () => channel.unsubscribe(handlers);
  });
  return () => {
    for (const stop of stops) stop();
  };
}
// recipe:end

const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
const tracer = provider.getTracer('otel-recipe-test');
const contextManager = new AsyncLocalStorageContextManager();
let stop: () => void = () => {};

beforeAll(() => {
  // What an application's OpenTelemetry setup does (NodeSDK registers one too).
  context.setGlobalContextManager(contextManager.enable());
  stop = traceYoinkStorage(tracer);
});
afterAll(() => {
  stop();
  context.disable();
});
afterEach(() => {
  exporter.reset();
  MemoryStorage.clearAll();
});

let n = 0;
const unique = (): string => `checkpoint-${process.pid}-${++n}`;

function spansNamed(name: string): ReadableSpan[] {
  return exporter.getFinishedSpans().filter((s) => s.name === name);
}

describe('the OpenTelemetry recipe of docs/tracing.md', () => {
  it('turns a write, flush, close and read into spans with the backend, redacted URI, bytes and lines', async () => {
    const uri = `memory://crawler:s3cret@${unique()}`;
    const s = await StorageFactory.fromUri(uri);
    await s.write('{"url":"a"}\n{"url":"b"}\n');
    await s.flush();
    await s.write('{"url":"c"}\n');
    await s.close();
    const lines: string[] = [];
    for await (const line of s.read()) lines.push(line);
    expect(lines).toHaveLength(3);

    const names = exporter.getFinishedSpans().map((span) => span.name);
    expect(names).toContain('yoink.storage.open');
    expect(names).toContain('yoink.storage.read');
    expect(names.filter((name) => name === 'yoink.storage.flush')).toHaveLength(2);
    expect(names.filter((name) => name === 'yoink.storage.close')).toHaveLength(1);

    const [first, second] = spansNamed('yoink.storage.flush');
    expect(first?.attributes).toEqual({
      'yoink.storage.backend': 'MemoryStorage',
      'yoink.storage.uri': expect.stringMatching(/^memory:\/\/crawler:\*+@checkpoint-/),
      'yoink.storage.bytes': 24,
      'yoink.storage.lines': 2,
    });
    expect(second?.attributes['yoink.storage.bytes']).toBe(12);
    expect(second?.attributes['yoink.storage.lines']).toBe(1);
    for (const span of exporter.getFinishedSpans()) {
      expect(JSON.stringify(span.attributes)).not.toContain('s3cret');
      expect(span.status.code).not.toBe(SpanStatusCode.ERROR);
    }
    const reads = spansNamed('yoink.storage.read');
    const bytesRead = reads.reduce(
      (sum, span) => sum + Number(span.attributes['yoink.storage.bytes'] ?? 0),
      0,
    );
    expect(bytesRead).toBe(36);
    expect(reads.at(-1)?.attributes['yoink.storage.done']).toBe(true);
  });

  it('nests the spans under the application’s active span', async () => {
    const s = new MemoryStorage(`memory://${unique()}`);
    await tracer.startActiveSpan('crawl', async (crawl) => {
      await s.write('x\n');
      await s.flush();
      crawl.end();
    });
    const [crawl] = spansNamed('crawl');
    const [flush] = spansNamed('yoink.storage.flush');
    expect(flush?.parentSpanContext?.spanId).toBe(crawl?.spanContext().spanId);
    expect(flush?.spanContext().traceId).toBe(crawl?.spanContext().traceId);
    await s.close();
  });

  it('marks a failed flush with an error status and the exception, and the retry succeeds', async () => {
    let failures = 1;
    class FlakyStorage extends MemoryStorage {
      protected override async persist(data: string): Promise<void> {
        if (failures-- > 0) throw new Error('disk on fire');
        await super.persist(data);
      }
    }
    const s = new FlakyStorage(`memory://${unique()}`);
    await s.write('x\n');
    await expect(s.flush()).rejects.toThrow('disk on fire');
    await s.flush();
    await s.close();
    const [failed, retried] = spansNamed('yoink.storage.flush');
    expect(failed?.status).toEqual({ code: SpanStatusCode.ERROR, message: 'disk on fire' });
    expect(failed?.events.map((e) => e.name)).toEqual(['exception']);
    expect(retried?.status.code).not.toBe(SpanStatusCode.ERROR);
    expect(retried?.attributes['yoink.storage.bytes']).toBe(2);
  });

  it('is the code docs/tracing.md shows', () => {
    const source = readFileSync(new URL(import.meta.url), 'utf8');
    const recipe = source.slice(
      source.indexOf('// recipe:start\n') + '// recipe:start\n'.length,
      source.indexOf('// recipe:end'),
    );
    const doc = readFileSync(new URL('../../../docs/tracing.md', import.meta.url), 'utf8');
    expect(recipe.length).toBeGreaterThan(500);
    // The document's block: the imports this file makes for it, then the function.
    const imports = [
      "import diagnostics from 'node:diagnostics_channel';",
      "import { type Span, SpanStatusCode, type Tracer } from '@opentelemetry/api';",
      "import type { StorageTraceContext } from '@yoink/storage-core';",
    ].join('\n');
    expect(doc).toContain(`\`\`\`ts\n${imports}\n\n${recipe}\`\`\``);
  });
});
