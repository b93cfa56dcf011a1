#!/usr/bin/python3
# Scapy's view of gtpu-lite's IPv6 tunnels: decodes a pcap into one JSON line per packet, or sends G-PDUs over IPv6.
# Usage: scapy-gtpu.py decode <pcap>
#        scapy-gtpu.py send <iface> <dst-mac> <src6> <dst6> <teid> <inner: 4|6> <inner-src> <inner-dst> <dport> <tag> <n>
import json
import sys

from scapy.all import IP, UDP, Ether, IPv6, Raw, raw, rdpcap, sendp
from scapy.contrib.gtp import GTP_U_Header, GTPPDUSessionContainer


def udp_checksum_ok(pkt):
    """Recomputes the UDP checksum over IPv6 with Scapy's own code and compares it with the one sent."""
    copy = IPv6(raw(pkt[IPv6]))
    sent = copy[UDP].chksum
    del copy[UDP].chksum
    return sent != 0 and IPv6(raw(copy))[UDP].chksum == sent


def inner_of(gtp):
    for layer in (IP, IPv6):
        if layer in gtp:
            inner = gtp[layer]
            out = {'version': inner.version, 'src': inner.src, 'dst': inner.dst}
            if UDP in inner:
                out['dport'] = inner[UDP].dport
                out['payload'] = bytes(inner[UDP].payload).decode('latin-1')
            return out
    return None


def decode(path):
    for pkt in rdpcap(path):
        if IPv6 not in pkt or UDP not in pkt:
            continue
        ip6, udp = pkt[IPv6], pkt[UDP]
        out = {
            'src': ip6.src,
            'dst': ip6.dst,
            'tc': ip6.tc,
            'nh': ip6.nh,
            'hlim': ip6.hlim,
            'plen': ip6.plen,
            'plen_ok': ip6.plen == len(raw(ip6.payload)),
            'udp': {
                'sport': udp.sport,
                'dport': udp.dport,
                'payload': '',
                'chksum_ok': udp_checksum_ok(pkt),
                'len_ok': udp.len == len(raw(udp)),
            },
        }
        if GTP_U_Header in pkt:
            gtp = pkt[GTP_U_Header]
            out['gtp'] = {
                'version': gtp.version,
                'pt': gtp.PT,
                'e': gtp.E,
                'type': gtp.gtp_type,
                'teid': gtp.teid,
                'length': gtp.length,
                'length_ok': gtp.length == len(raw(gtp)) - 8,
                'qfi': pkt[GTPPDUSessionContainer].QFI if GTPPDUSessionContainer in pkt else None,
                'pdu_type': pkt[GTPPDUSessionContainer].type if GTPPDUSessionContainer in pkt else None,
                'inner': inner_of(gtp),
            }
        print(json.dumps(out))


def send(iface, mac, src6, dst6, teid, family, inner_src, inner_dst, dport, tag, n):
    layer = IP if family == '4' else IPv6
    pkts = []
    for i in range(int(n)):
        inner = layer(src=inner_src, dst=inner_dst) / UDP(sport=40000, dport=int(dport)) / Raw(f'{tag}-{i}'.encode())
        pkts.append(
            Ether(dst=mac)
            / IPv6(src=src6, dst=dst6)
            / UDP(sport=2152, dport=2152)
            / GTP_U_Header(teid=int(teid), gtp_type=255)
            / inner
        )
    sendp(pkts, iface=iface, verbose=False)


if __name__ == '__main__':
    if sys.argv[1] == 'decode':
        decode(sys.argv[2])
    else:
        send(*sys.argv[2:])
