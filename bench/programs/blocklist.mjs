// xdp-firewall blocklists for the benchmarks: deterministic prefixes and the /16 prefilter their writer keeps.

/** Deterministic distinct prefixes (LPM keys) spread over the IPv4 space, none covering 198.18.0.0/15 (the source). */
export function blocklistKeys(count) {
  let state = 0x9e3779b9;
  const next = () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return (t ^ (t >>> 14)) >>> 0;
  };
  const seen = new Set();
  const keys = [];
  while (keys.length < count) {
    const len = [16, 20, 24, 24, 24, 28, 32, 32][next() % 8];
    const addr = (next() & (len === 32 ? 0xffffffff : ~((1 << (32 - len)) - 1))) >>> 0;
    if (addr >>> 17 === (198 << 7) + 9 || seen.has(`${addr}/${len}`)) continue;
    seen.add(`${addr}/${len}`);
    keys.push(prefixKey(addr, len));
  }
  return keys;
}

/** An LPM key of blocklist_v4: prefix length (u32, host order), then the address in network order. */
export function prefixKey(addr, len) {
  const key = Buffer.alloc(8);
  key.writeUInt32LE(len, 0);
  key.writeUInt32BE(addr >>> 0, 4);
  return key;
}

/** xdp-firewall's blocklist_v4_slash16 entries derived from LPM keys, as the blocklist's writer keeps them. */
export function slash16Entries(keys) {
  const entries = new Map();
  const control = Buffer.alloc(32);
  control[0] = 1;
  for (const key of keys) {
    const len = key.readUInt32LE(0);
    if (len < 16) {
      control[1] = 1;
      continue;
    }
    const a = key[4];
    const b = key[5];
    if (!entries.has(a)) entries.set(a, Buffer.alloc(32));
    entries.get(a)[b >> 3] |= 1 << (b & 7);
  }
  entries.set(256, control);
  return entries;
}

/** Writes the prefixes into a loaded xdp-firewall, and the /16 prefilter unless told not to; checks the count. */
export function fillBlocklist(coll, keys, { prefilter = true } = {}) {
  const blocklist = coll.map('blocklist_v4');
  for (const key of keys) blocklist.update(key, Uint8Array.of(1));
  const entries = blocklist.keys().length;
  if (entries !== keys.length)
    throw new Error(`blocklist holds ${entries} prefixes, expected ${keys.length}`);
  if (!prefilter) return;
  const slash16 = coll.map('blocklist_v4_slash16');
  for (const [index, bits] of slash16Entries(keys)) {
    const key = Buffer.alloc(4);
    key.writeUInt32LE(index);
    slash16.update(key, bits);
  }
}
