// The root announcement topic on every broker: only the edge writes it (retained), every device of the fleet reads it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { rootTopic } from '@bpfleet/sdk/protocol';
import { type BrokerIdentity, decidePublish, decideSubscribe } from '../broker/access-policy.js';
import { renderMosquittoAcl } from '../broker/mosquitto-config.js';
import { deviceAcls } from '../broker/mosquitto-dynsec.js';
import { DEFAULT_PACKET_LIMITS, payloadLimit } from '../broker/packet-limits.js';

const device: BrokerIdentity = { role: 'device', fleet: 'rta', deviceId: 'rta-1', groups: [] };
const controller: BrokerIdentity = { role: 'controller', fleet: 'rta', name: 'edge' };
const topic = rootTopic('rta');

describe('root announcement topic', () => {
  it('is written (retained) by the controller only, read by devices of its fleet only', () => {
    assert.deepEqual(decidePublish(controller, topic, true), { allowed: true });
    assert.equal(decidePublish(device, topic, true).allowed, false);
    assert.equal(decidePublish(device, topic, false).allowed, false);
    assert.deepEqual(decideSubscribe(device, topic), { allowed: true });
    assert.equal(decideSubscribe(device, rootTopic('other')).allowed, false);
    assert.ok(payloadLimit(controller, topic, DEFAULT_PACKET_LIMITS) > 0);
    assert.equal(payloadLimit(device, topic, DEFAULT_PACKET_LIMITS), 0);
  });

  it('is in the rendered mosquitto ACL and the dynamic-security roles', () => {
    const acl = renderMosquittoAcl('rta', [controller, device]);
    assert.match(acl, /pattern read bpfleet\/v1\/rta\/root\n/);
    assert.match(acl, /topic write bpfleet\/v1\/rta\/root/);
    const acls = deviceAcls('rta', 'rta-1', []).filter((a) => a.topic === topic);
    assert.deepEqual(acls.map((a) => a.acltype).sort(), ['publishClientReceive', 'subscribeLiteral']);
  });
});
