// Entry point `@yoink/test-servers/proxies`: proxies that tests and benchmarks
// put between a client and a test server, to freeze it, lose its replies,
// inject errors or add latency. The TCP ones share one core (tcp-relay.ts).
export { type FreezeOptions, FreezingProxy } from './freezing-proxy.js';
export {
  type ErrorReply,
  type FaultAction,
  failNext,
  type HttpFaultProxy,
  type HttpFaultProxyOptions,
  type ProxiedRequest,
  startHttpFaultProxy,
} from './http-fault-proxy.js';
export { type LatencyProxy, startLatencyProxy } from './latency-proxy.js';
export { TcpFaultProxy } from './tcp-fault-proxy.js';
