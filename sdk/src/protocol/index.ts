// The wire protocol between edge and devices: MQTT topics.
export * from './topics.js';
