// Child process of the pinned-link test: loads the XDP counter, attaches, pins link and map, exits.
import { loadCollection } from '../collection.js';
import { testObject } from './fixtures.js';

const [iface, dir] = process.argv.slice(2);
if (!iface || !dir) throw new Error('usage: pin-child <iface> <pin dir>');
const coll = await loadCollection(testObject('xdp_counter'), { config: { version: 1n } });
const link = await coll.program('count_pings').attach({ kind: 'xdp', interface: iface, mode: 'generic' });
link.pin(`${dir}/link`);
coll.map('counts').pin(`${dir}/counts`);
link.close();
coll.close();
process.stdout.write(JSON.stringify({ pinned: true }));
