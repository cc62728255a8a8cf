// Types of run.mjs, for e2e/test/runtimes.test.ts.

/** The packages the scenario installs (the CLI brings the three backends). */
export declare const SCENARIO_PACKAGES: readonly string[];

/** What one runtime's scenario run gave. */
export interface ScenarioResult {
  runtime: string;
  /** Exit code of the scenario (0: every check passed). */
  code: number;
  passed: number;
  failed: number;
  /** Everything it printed (stdout and stderr). */
  output: string;
}

/** The running servers and the environment that points the scenario at them. */
export interface ScenarioServers {
  env: Record<string, string>;
  stop(): Promise<void>;
}

/** The command that runs a script under `name` (`['deno', 'run', '-A']`…). */
export declare function runtimeCommand(name: 'node' | 'bun' | 'deno'): string[];
/** `bun 1.4.5`, `deno 2.9.6`, `node 22.23.3`. */
export declare function runtimeVersion(name: 'node' | 'bun' | 'deno'): Promise<string>;
/** Packs every package of SCENARIO_PACKAGES into `dest`; returns name → tarball path. */
export declare function packTarballs(dest: string): Promise<Record<string, string>>;
/** A fresh project outside the repository with the tarballs installed by npm; returns its path. */
export declare function createApp(tarballs: Record<string, string>): Promise<string>;
/** Starts a redis-server and a moto_server with one bucket. */
export declare function startServers(): Promise<ScenarioServers>;
/** Runs scenario.mjs in `app` under `runtime`. */
export declare function runScenario(
  app: string,
  runtime: 'node' | 'bun' | 'deno',
  env: Record<string, string>,
  options?: { echo?: boolean },
): Promise<ScenarioResult>;
