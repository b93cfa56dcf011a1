// The wire protocol between edge and devices: MQTT topics.

export * from './messages.js';
export * from './topics.js';
