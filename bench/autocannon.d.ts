/**
 * The part of autocannon 9's programmatic API that `bench.ts` uses (the package ships no types).
 * See node_modules/autocannon/README.md, section "API".
 */
declare module 'autocannon' {
  /** One request of a sequence; unset fields fall back to the run's options. */
  export interface Request {
    method?: string;
    path?: string;
    headers?: Record<string, string>;
    body?: string | Buffer;
  }

  /** One connection's request loop; `setRequests` replaces its sequence (prebuilt once). */
  export interface Client {
    setRequests(requests: Request[]): void;
  }

  export interface Options {
    /** What to load, e.g. `http://127.0.0.1:8080/healthz`; each of `requests` may give its own path. */
    url: string;
    connections?: number;
    /** Seconds. */
    duration?: number;
    /** Seconds to wait for a response before counting a timeout. */
    timeout?: number;
    method?: string;
    headers?: Record<string, string>;
    body?: string | Buffer;
    requests?: Request[];
    setupClient?: (client: Client) => void;
  }

  /** An HDR histogram summary: latencies in milliseconds, request counts per second. */
  export interface Histogram {
    average: number;
    mean: number;
    stddev: number;
    min: number;
    max: number;
    total: number;
    p2_5: number;
    p50: number;
    p75: number;
    p90: number;
    p97_5: number;
    p99: number;
    p99_9: number;
  }

  export interface Result {
    /** Measured wall time, in seconds. */
    duration: number;
    requests: Histogram;
    latency: Histogram;
    errors: number;
    timeouts: number;
    non2xx: number;
    '2xx': number;
  }

  export interface Instance {
    stop(): void;
    /** Every answer; `responseTime` is in milliseconds, unrounded (the `latency` histogram keeps whole ms only). */
    on(event: 'response', listener: (client: Client, statusCode: number, resBytes: number, responseTime: number) => void): Instance;
  }

  function autocannon(options: Options, done: (err: Error | null, result: Result) => void): Instance;
  export default autocannon;
}
