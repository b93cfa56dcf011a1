// The one test kit every workspace imports (`@bpfleet/sdk/test-kit`): waiting for behaviour and free ports.
export { freePort } from './free-port.js';
export { UntilTimeoutError, until } from './until.js';
