#!/usr/bin/python3
"""Scapy as the independent dissector for apn-tagger's tests: decodes a pcap into JSON, or sends APN6 packets.

decode PCAP            one JSON line per IPv6 packet: extension-header options, UDP payload and checksum verdicts
send IFACE DST_MAC SRC DST PORT APN_ID OPTION_TYPE COUNT
                       sends COUNT UDP datagrams with the APN ID in a Hop-by-Hop option Scapy builds itself
"""
import json
import struct
import sys

from scapy.layers.inet import TCP, UDP
from scapy.layers.inet6 import IPv6, IPv6ExtHdrDestOpt, IPv6ExtHdrHopByHop, HBHOptUnknown
from scapy.layers.l2 import Ether
from scapy.packet import Raw
from scapy.sendrecv import sendp
from scapy.utils import rdpcap


def options(layer):
    return [
        {"otype": o.otype, "optlen": getattr(o, "optlen", None), "optdata": bytes(getattr(o, "optdata", b"")).hex()}
        for o in layer.options
    ]


def decode(path):
    for frame in rdpcap(path):
        if IPv6 not in frame:
            continue
        ip = frame[IPv6]
        out = {"nh": ip.nh, "plen": ip.plen, "plen_ok": ip.plen == len(bytes(ip.payload))}
        if IPv6ExtHdrHopByHop in ip:
            out["hbh"] = options(ip[IPv6ExtHdrHopByHop])
        ext = 0
        if IPv6ExtHdrHopByHop in ip:
            ext += (ip[IPv6ExtHdrHopByHop].len + 1) * 8
        if IPv6ExtHdrDestOpt in ip:
            out["dest"] = options(ip[IPv6ExtHdrDestOpt])
            ext += (ip[IPv6ExtHdrDestOpt].len + 1) * 8
        if TCP in ip:
            # From the headers, not the captured bytes: the test may capture only the first bytes of each packet.
            tcp = ip[TCP]
            out["tcp"] = {"dport": tcp.dport, "payload_len": ip.plen - ext - tcp.dataofs * 4}
        if UDP in ip:
            udp = ip[UDP]
            # Scapy recomputes the checksum itself (pseudo-header and all) when the field is removed.
            again = IPv6(bytes(ip))
            del again[UDP].chksum
            out["udp"] = {
                "dport": udp.dport,
                "payload": bytes(udp.payload).decode("latin-1"),
                "chksum": udp.chksum,
                "chksum_ok": udp.chksum == IPv6(bytes(again))[UDP].chksum,
                "len_ok": udp.len == 8 + len(bytes(udp.payload)),
            }
        print(json.dumps(out))


def send(iface, dst_mac, src, dst, port, apn_id, option_type, count):
    # APN-ID-Type 1 (32-bit), Flags 0, APN-Para-Type 0, then the APN-ID: the draft's layout, built here by hand.
    data = struct.pack("!BBHI", 1, 0, 0, apn_id)
    hbh = IPv6ExtHdrHopByHop(options=[HBHOptUnknown(otype=option_type, optdata=data)])
    for i in range(count):
        frame = Ether(dst=dst_mac) / IPv6(src=src, dst=dst) / hbh / UDP(sport=40000, dport=port) / Raw(b"scapy-%d" % i)
        sendp(frame, iface=iface, verbose=False)


if __name__ == "__main__":
    if sys.argv[1] == "decode":
        decode(sys.argv[2])
    elif sys.argv[1] == "send":
        a = sys.argv[2:]
        send(a[0], a[1], a[2], a[3], int(a[4]), int(a[5]), int(a[6]), int(a[7]))
    else:
        sys.exit(2)
