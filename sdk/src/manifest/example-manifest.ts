// A complete, valid manifest using every section: a fixture for tests across the project and an example for docs.
import type { Manifest } from './types.js';

/** A fresh copy each call (tests mutate it). Same content as testdata/example-manifest.json. */
export function exampleManifest(): Manifest {
  return {
    name: 'acme/xdp-firewall',
    version: '1.2.0',
    description: 'Drops IPv4 traffic from a blocklist and counts verdicts per interface',
    license: 'Dual BSD/GPL',
    programs: [
      {
        name: 'xdp_firewall',
        attach: {
          interface: 'wan0',
          mode: 'driver',
        },
        description: "Checks each packet's source address against the blocklist",
      },
      {
        name: 'tc_egress_count',
        attach: {
          interface: 'wan0',
          direction: 'egress',
        },
      },
    ],
    config: {
      enabled: {
        type: 'bool',
        default: true,
        description: 'Drop matching packets (false: count only)',
      },
      max_pps: {
        type: 'u32',
        default: 100000,
        min: 1,
        max: 10000000,
      },
      byte_budget: {
        type: 'u64',
        default: '18446744073709551615',
      },
      gateway: {
        type: 'ipv4',
        default: '198.18.0.1',
      },
      gateway6: {
        type: 'ipv6',
        default: '2001:db8::1',
      },
      router_mac: {
        type: 'mac',
        default: '02:00:00:00:00:01',
      },
      secret: {
        type: 'bytes',
        size: 4,
        default: 'deadbeef',
      },
    },
    maps: {
      blocklist: {
        persist: true,
        entries: 'policy',
        layout: {
          key: 'ipv4',
          value: 'u8',
        },
        description: 'Source addresses to drop',
      },
      verdicts: {
        layout: {
          key: {
            ifindex: 'u32',
            verdict: 'u32',
          },
          value: {
            packets: 'u64',
            bytes: 'u64',
          },
        },
        metrics: [
          {
            name: 'bpfleet_firewall_packets_total',
            type: 'counter',
            help: 'Packets seen, by interface and verdict',
            value: 'packets',
            labels: {
              ifindex: 'ifindex',
              verdict: 'verdict',
            },
            labelValues: {
              verdict: {
                '0': 'pass',
                '1': 'drop',
              },
            },
            perCpu: 'sum',
          },
          {
            name: 'bpfleet_firewall_bytes_total',
            type: 'counter',
            help: 'Bytes seen, by verdict',
            value: 'bytes',
            labels: {
              verdict: 'verdict',
            },
            labelValues: {
              verdict: {
                '0': 'pass',
                '1': 'drop',
              },
            },
            perCpu: 'sum',
          },
        ],
      },
    },
    requires: {
      arches: ['x86', 'arm64'],
      kernel: '5.15',
      btf: true,
      programTypes: ['xdp', 'sched_cls'],
      mapTypes: ['hash', 'percpu_hash'],
      helpers: ['bpf_map_lookup_elem', 'bpf_ktime_get_ns'],
      capabilities: ['CAP_BPF', 'CAP_NET_ADMIN'],
    },
  };
}

/** The example as manifest.json text. */
export function exampleManifestJson(overrides: Partial<Manifest> = {}): string {
  return `${JSON.stringify({ ...exampleManifest(), ...overrides }, null, 2)}\n`;
}
