// The agent's logger: the SDK's daemon logger (JSON lines, or readable lines on a terminal), fields not prose.
export {
  createJsonLogger,
  createStderrLogger,
  createTextLogger,
  type LogFields,
  type Logger,
  silentLogger,
} from '@bpfleet/sdk/log';
