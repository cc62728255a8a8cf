import { FreezingProxy as SharedFreezingProxy } from '@yoink/test-servers/proxies';

/** The shared {@link SharedFreezingProxy}, as S3's timeout tests use it. */
export type FreezingProxy = SharedFreezingProxy;

/**
 * Starts a freezing proxy that plays a frozen host: while frozen, the server
 * closing a connection is held too (`holdServerCloses`), so a server that
 * closes after replying does not end the freeze.
 */
export const FreezingProxy = {
  start: (targetPort: number, trigger: RegExp): Promise<FreezingProxy> =>
    SharedFreezingProxy.start(targetPort, trigger, { holdServerCloses: true }),
};
