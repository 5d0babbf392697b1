"""Hunt area fwdsec: in_forward's <security> handshake (registered in hunt.py's AREAS).

One case per config: a random <security> (self_hostname, shared_key, user_auth, <user>,
allow_anonymous_source, <client> entries with host or network, their own shared_key and users;
127.0.0.1 inside or outside them), sometimes deny_keepalive, add_tag_prefix, source_address_key or
skip_invalid_event, then connections whose client has a view of its own (hostname, right or
wrong key, right, wrong or no user), some with a malformed PING or none, some with the next
frame in the same write as the PING, each followed by frames
of every mode with and without acks (send_sec.py). A frame without an ack comes only after a
PING on its connection and before an acked frame on it (so never with deny_keepalive, where
Fluentd closing at once after it may even drop the PONG it wrote for a PING sent in the same
write); with deny_keepalive a connection carries one frame; a second PING only
with skip_invalid_event true (it is a frame of invalid events then).
"""
import fwdsec_cases as fc

USERS = [("alice", "pa"), ("bob", "pb"), ("alice", "pa2"), ("carol", "pc"), ("josé", "pj")]
NETWORKS = ["127.0.0.0/8", "10.0.0.0/8", "127.0.0.1/32", "192.168.0.0/16", "127.0.0.0/255.0.0.0",
            "0.0.0.0/0", "127.0.0.1", "::1/128", "127.0.0.2/32"]
HOSTS = ["127.0.0.1", "localhost", "10.1.2.3"]
VARIANTS = ["count5", "count7", "host_int", "salt_nil", "user_nil", "pass_int", "digest_int", "bin",
            "lower", "map", "str", "nil", "int", "before_helo", "json"]


def covers_localhost(client):
    """Does this <client> take 127.0.0.1 (localhost resolves to it here)?"""
    net = client.get("network")
    if net is None:
        return client["host"] in ("127.0.0.1", "localhost")
    return net in ("127.0.0.0/8", "127.0.0.1/32", "127.0.0.0/255.0.0.0", "0.0.0.0/0", "127.0.0.1")


def hunt_fwdsec(R, g, name):
    """Write one random case `name` (R: hunt.py's random source, g: gen_cases)."""
    key = R.choice(["secret", "k2", "a b"])
    users = R.sample(USERS, R.randint(0, 3))
    user_auth = R.choice([None, "true", "false"]) if users else R.choice([None, "false"])
    clients = []
    for _ in range(R.choice([0, 0, 1, 2, 3])):
        c = {"network": R.choice(NETWORKS)} if R.random() < 0.7 else {"host": R.choice(HOSTS)}
        if R.random() < 0.4:
            c["shared_key"] = R.choice(["mine", "k2", key])
        if users and R.random() < 0.4:
            c["users"] = ",".join(R.sample(sorted({u for u, _ in USERS}), R.randint(1, 2)))
        clients.append(c)
    anonymous = R.choice([None, "true", "false"]) if clients else R.choice([None, "true"])
    sec = fc.security(shared_key=key, hostname=R.choice(["server", "fluentd.local"]), user_auth=user_auth,
                      anonymous=anonymous, users=users, clients=clients)
    opts = ""
    deny = R.random() < 0.2
    skip = R.random() < 0.4
    if deny:
        opts += "  deny_keepalive true\n"
    if skip:
        opts += "  skip_invalid_event true\n"
    if R.random() < 0.2:
        opts += "  add_tag_prefix pre\n"
    if R.random() < 0.2:
        opts += "  source_address_key addr\n"
    rule = next((c for c in clients if covers_localhost(c)), None)
    right = (rule or {}).get("shared_key", key)
    allowed = [(u, p) for u, p in users if not rule or "users" not in rule or u in rule["users"].split(",")]
    keys = [right, right, right, key, "wrong", ""] + [c["shared_key"] for c in clients if "shared_key" in c]
    frames, n = [], 0
    for conn in range(R.randint(2, 5)):
        first = True
        ping = None
        if R.random() < 0.85:
            ping = {"mode": "ping", "hostname": R.choice(["client", "client", "server", ""]),
                    "shared_key": R.choice(keys)}
            if R.random() < 0.7:
                u, p = R.choice(allowed * 3 + USERS + [("nobody", "x")])
                ping["username"] = u
                ping["password"] = R.choice([p, p, "wrong"])
            if R.random() < 0.15:
                ping["variant"] = R.choice(VARIANTS)
            if R.random() < 0.25:
                ping["pipeline"] = True
            if conn:
                ping["new_conn"] = True
            frames.append(ping)
            first = False
        json_conn = ping is not None and ping.get("variant") == "json"
        count = 1 if deny else R.randint(1, 4)
        for k in range(count):
            n += 1
            if json_conn:
                f = R.choice([{"mode": "json", "frame": ["t", fc.T0, {"n": n}]},
                              {"mode": "json", "frame": ["t", [[fc.T0, {"n": n}]]]}])
            else:
                mode = R.choice(["message", "forward", "packed", "compressed"])
                f = fc.msg(n, tag=R.choice(["t", "a.b"])) if mode == "message" else fc.fwd(n, mode, tag=R.choice(["t", "a.b"]))
                # Only with an acked frame after it on the same connection (that ack proves it
                # was taken; the order across connections is not fixed otherwise).
                if ping is not None and k < count - 1 and R.random() < 0.3:
                    f["ack"] = False
            if first and conn:
                f["new_conn"] = True
            first = False
            frames.append(f)
        if skip and ping is not None and not deny and not json_conn and R.random() < 0.3:
            frames.append(dict(ping, no_reply=True, new_conn=False))
            n += 1
            frames.append(fc.msg(n))
    # a last connection with the right key proves the server is still there
    last = allowed[0] if allowed else (None, None)
    frames.append(fc.ping(shared_key=right, username=last[0], password=last[1], new_conn=True))
    frames.append(fc.msg(n + 1))
    g.case(name, fc.conf(sec, opts), frames, raw_conf=True)
