// The wire protocol between edge and devices: MQTT topics, device messages, the device inventory.

export * from './inventory.js';
export * from './messages.js';
export * from './program-events.js';
export * from './topics.js';
