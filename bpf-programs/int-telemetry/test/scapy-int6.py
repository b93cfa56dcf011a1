#!/usr/bin/python3
"""Scapy as the independent dissector for int-telemetry's IPv6 tests: decodes a pcap into JSON, or sends stamped packets.

decode PCAP            one JSON line per IPv6 packet: Scapy's view of its Destination Options, the raw bytes of that
                       header (the test reads the shim from them by the README's layout), UDP payload and checksum
send IFACE DST_MAC SRC DST PORT OPTION_TYPE VERSION SEQ...
                       sends one UDP datagram "scapy-<seq>" per SEQ, each with a shim Scapy builds itself in a
                       Destination Options header (PadN, then the option), timestamped now (CLOCK_TAI)
"""
import json
import struct
import sys
import time

from scapy.layers.inet import UDP
from scapy.layers.inet6 import IPv6, IPv6ExtHdrDestOpt, HBHOptUnknown, PadN
from scapy.layers.l2 import Ether
from scapy.sendrecv import sendp
from scapy.utils import rdpcap


def decode(path):
    for frame in rdpcap(path):
        if IPv6 not in frame:
            continue
        ip = frame[IPv6]
        out = {"nh": ip.nh, "plen": ip.plen, "plen_ok": ip.plen == len(bytes(ip.payload))}
        if IPv6ExtHdrDestOpt in ip:
            dest = ip[IPv6ExtHdrDestOpt]
            out["dest"] = [
                {"otype": o.otype, "optlen": o.optlen, "optdata": bytes(o.optdata).hex()} for o in dest.options
            ]
            # The header's own bytes, as Scapy delimits it: (len + 1) * 8 octets.
            out["dest_raw"] = bytes(dest)[: (dest.len + 1) * 8].hex()
        if UDP in ip:
            udp = ip[UDP]
            # Scapy recomputes the checksum itself (pseudo-header and all) when the field is removed.
            again = IPv6(bytes(ip))
            del again[UDP].chksum
            out["udp"] = {
                "dport": udp.dport,
                "payload": bytes(udp.payload).decode("latin-1"),
                "chksum_ok": udp.chksum == IPv6(bytes(again))[UDP].chksum,
                "len_ok": udp.len == 8 + len(bytes(udp.payload)),
            }
        print(json.dumps(out))


def send(iface, dst_mac, src, dst, port, option_type, version, seqs):
    for seq in seqs:
        # next_protocol 17, version, reserved 0, sequence number, CLOCK_TAI nanoseconds: built here by hand.
        shim = struct.pack("!BBHIQ", 17, version, 0, seq, time.clock_gettime_ns(time.CLOCK_TAI))
        dest = IPv6ExtHdrDestOpt(nh=17, options=[PadN(optdata=b"\0\0"), HBHOptUnknown(otype=option_type, optdata=shim)])
        frame = Ether(dst=dst_mac) / IPv6(src=src, dst=dst) / dest / UDP(sport=40000, dport=port) / (b"scapy-%d" % seq)
        sendp(frame, iface=iface, verbose=False)


if __name__ == "__main__":
    if sys.argv[1] == "decode":
        decode(sys.argv[2])
    elif sys.argv[1] == "send":
        a = sys.argv[2:]
        send(a[0], a[1], a[2], a[3], int(a[4]), int(a[5]), int(a[6]), [int(s) for s in a[7:]])
    else:
        sys.exit(2)
