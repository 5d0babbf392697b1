"""Send the <extract> cases of fluentd-extract.conf to 127.0.0.1:PORT: `tcp` (one connection),
`udp` (one datagram each) or `noest` (one connection).  Usage: extract_send.py tcp|udp|noest PORT"""
import socket
import sys
import time

what, port = sys.argv[1], int(sys.argv[2])
tcp = [
    '{"tag":"x.y","msg":1}',
    '{"msg":2}',
    '{"tag":123,"msg":3}',
    '{"tag":null,"msg":4}',
    '{"t":1700000000,"msg":5}',
    '{"tag":1.5,"msg":6}',
    '{"tag":["a",1],"msg":7}',
    '{"tag":{"a":1},"msg":8}',
    '{"tag":true,"msg":9}',
    '{"tag":"","msg":10}',
    '{"msg":11,"time":1600000000}',
]
udp = [
    '{"tag":"u.x","t":"2023-11-14 22:13:20","msg":1}',
    '{"msg":2}',
    '{"tag":"u.y","msg":3}',
]
noest = [
    '{"tag":"n.x","t":1700000000.5,"msg":1}',
    '{"t":"1700000001.25","msg":2}',
    '{"msg":3}',
]

if what in ("tcp", "noest"):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall("".join(m + "\n" for m in (tcp if what == "tcp" else noest)).encode())
    s.close()
else:
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for m in udp:
        u.sendto(m.encode(), ("127.0.0.1", port))
        time.sleep(0.05)
