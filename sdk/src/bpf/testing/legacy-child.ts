// Child process of the legacy attach tests: attaches the XDP counter through netlink (BPFLEET_ATTACH_MODE=legacy),
// swaps in a second copy, removes it, and says which program ids it saw; run with fewer capabilities by the test.
import { loadCollection } from '../collection.js';
import { ATTACH_MODE_ENV } from '../internal/link-support.js';
import { testObject } from './fixtures.js';

const [iface] = process.argv.slice(2);
if (!iface) throw new Error('usage: legacy-child <iface>');
process.env[ATTACH_MODE_ENV] = 'legacy';
const first = await loadCollection(testObject('xdp_counter'));
const second = await loadCollection(testObject('xdp_counter'));
const link = await first.program('count_pings').attach({ kind: 'xdp', interface: iface });
const attached = link.info().programId;
link.update(second.program('count_pings'));
const updated = link.info().programId;
link.close();
first.close();
second.close();
process.stdout.write(JSON.stringify({ attached, updated }));
