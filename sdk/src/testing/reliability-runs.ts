// The one iteration knob of the reliability suites: BPFLEET_LONG=1 (`npm run test:long`) selects the long versions.

/** True when the long suite runs (`BPFLEET_LONG=1`). */
export function isLongRun(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.BPFLEET_LONG === '1' || env.BPFLEET_LONG === 'true';
}

/** `short` in `npm test`, `long` in `npm run test:long`. */
export function reliabilityRuns<T>(short: T, long: T, env: NodeJS.ProcessEnv = process.env): T {
  return isLongRun(env) ? long : short;
}

/** fast-check run count for a parser fuzz: 1,000 in `npm test`, 100,000 in the long suite. */
export function fuzzRuns(env: NodeJS.ProcessEnv = process.env): number {
  return reliabilityRuns(1_000, 100_000, env);
}
