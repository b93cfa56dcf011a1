// The edge's logger: the SDK's daemon logger (JSON lines, or readable lines on a terminal), without debug.
import type { Logger as DaemonLogger } from '@bpfleet/sdk/log';

export { createJsonLogger, createStderrLogger, type LogFields } from '@bpfleet/sdk/log';

export type Logger = Pick<DaemonLogger, 'info' | 'warn' | 'error'>;

export const silentLogger: Logger = { info() {}, warn() {}, error() {} };
