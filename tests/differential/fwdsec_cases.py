"""Curated differential cases of in_forward's <security> handshake and keepalive options.

gen_cases.py calls `add(case)`; the cases are named fwdsec-<what> (a handshake, send_sec.py) and
config-fwdsec-<what> (dry-run acceptance only). hunt_fwdsec.py draws random ones from the same
pieces.
"""

T0 = 1700000000


def security(shared_key="secret", hostname="server", user_auth=None, anonymous=None, users=(), clients=(),
             extra=""):
    """A <security> section. users: (name, password) pairs (password None: left out); clients:
    dicts of host/network/shared_key/users."""
    s = "  <security>\n"
    if hostname is not None:
        s += "    self_hostname %s\n" % hostname
    if shared_key is not None:
        s += "    shared_key %s\n" % shared_key
    if user_auth is not None:
        s += "    user_auth %s\n" % user_auth
    if anonymous is not None:
        s += "    allow_anonymous_source %s\n" % anonymous
    s += extra
    for name, password in users:
        s += "    <user>\n"
        if name is not None:
            s += "      username %s\n" % name
        if password is not None:
            s += "      password %s\n" % password
        s += "    </user>\n"
    for c in clients:
        s += "    <client>\n" + "".join("      %s %s\n" % (k, v) for k, v in c.items()) + "    </client>\n"
    return s + "  </security>\n"


def source(sec="", opts=""):
    return ("<source>\n  @type forward\n  port {PORT}\n  bind 127.0.0.1\n%s%s</source>\n" % (opts, sec))


OUT_FILE = ("<match **>\n  @type file\n  path {DIR}/out/f\n  append true\n  <format>\n    @type json\n  </format>\n"
            "  <inject>\n    tag_key tg\n  </inject>\n  <buffer []>\n    @type memory\n  </buffer>\n</match>\n")
TAIL = "<label @FLUENT_LOG>\n  <match **>\n    @type null\n  </match>\n</label>\n"


def conf(sec="", opts=""):
    return source(sec, opts) + OUT_FILE + TAIL


def ping(**kw):
    return dict(mode="ping", **kw)


def msg(n, tag="t", **kw):
    return dict(mode="message", tag=tag, time=T0, record={"n": n}, **kw)


def fwd(n, mode="forward", tag="t", **kw):
    return dict(mode=mode, tag=tag, entries=[[T0, {"n": n}], [T0 + 1, {"n": n, "second": True}]], **kw)


def add(case):
    """Register the cases with gen_cases.py's `case(name, body, frames, raw_conf)`."""
    sec = security()
    ok = ping(hostname="client", shared_key="secret")

    def c(name, body, frames):
        case("fwdsec-" + name, body, frames, raw_conf=True)

    # The shared key alone, right and wrong, and the frames of every mode after it.
    c("right-key-every-mode", conf(sec), [ok, msg(1), fwd(2), fwd(3, "packed"), fwd(4, "compressed"),
                                          msg(5, ack=False), msg(6)])
    c("wrong-key", conf(sec), [ping(shared_key="wrong"), msg(1), msg(2, new_conn=True)])
    c("wrong-key-then-right", conf(sec), [ping(shared_key="wrong"), dict(ok, new_conn=True), msg(1)])
    c("empty-key", conf(sec), [ping(shared_key=""), dict(ok, new_conn=True), msg(1)])
    # Frames sent where the server waits for a PING.
    c("frame-without-ping", conf(sec), [msg(1), msg(2), dict(ok, new_conn=True), msg(3)])
    c("forward-without-ping", conf(sec), [fwd(1), dict(fwd(2, "packed"), new_conn=True), dict(ok, new_conn=True), msg(3)])
    c("json-frame-without-ping", conf(sec), [dict(mode="json", frame=["t", T0, {"n": 1}]), dict(ok, new_conn=True), msg(2)])
    c("ping-before-helo", conf(sec), [ping(variant="before_helo"), dict(ok, new_conn=True), msg(1)])
    # Malformed PINGs.
    for v in ["count5", "count7", "lower", "map", "str", "int", "nil", "host_int", "salt_nil", "digest_int"]:
        c("ping-" + v.replace("_", "-"), conf(sec), [ping(variant=v), dict(ok, new_conn=True), msg(1)])
    c("over-limit-without-ping", conf(sec, "  chunk_size_limit 40\n"),
      [dict(msg(1), record={"n": 1, "pad": "x" * 60}), dict(ok, new_conn=True), dict(msg(2, ack=False), record={"n": 2, "pad": "x" * 60}), msg(3)])
    c("ping-bin-fields", conf(sec), [ping(variant="bin"), msg(1)])
    c("ping-json", conf(sec), [ping(variant="json"), dict(mode="json", frame=["t", T0, {"n": 1}]),
                               dict(mode="json", frame=["t", [[T0, {"n": 2}]]])])
    c("ping-user-nil-no-user-auth", conf(sec), [ping(variant="user_nil"), msg(1)])
    # A PING on an authenticated connection is a PackedForward frame of tag PING whose entries are
    # the hostname's bytes: invalid events (skip_invalid_event true; without it Fluentd emits them,
    # README "Differences from Fluentd").
    skip = "  skip_invalid_event true\n"
    c("pipelined-frame", conf(sec), [dict(ok, pipeline=True), msg(1), fwd(2, "packed")])
    c("pipelined-frame-wrong-key", conf(sec), [ping(shared_key="wrong", pipeline=True), msg(1), dict(ok, new_conn=True), msg(2)])
    c("pipelined-after-nil-ping", conf(sec), [ping(variant="nil", pipeline=True), msg(1), dict(ok, new_conn=True), msg(2)])
    c("pipelined-two-pings-wrong-first", conf(sec), [ping(shared_key="wrong", pipeline=True), ok, dict(ok, new_conn=True), msg(2)])
    c("pipelined-json", conf(sec), [dict(ok, variant="json", pipeline=True), dict(mode="json", frame=["t", T0, {"n": 1}])])
    c("second-ping", conf(sec, skip), [ok, msg(1), dict(ok, no_reply=True), msg(2), dict(ok, new_conn=True), msg(3)])
    c("deny-keepalive", conf(sec, "  deny_keepalive true\n"), [ok, msg(1), msg(2), dict(ok, new_conn=True), fwd(3, "packed")])
    # A frame without an ack sent with the PING: Fluentd closes at once and its PONG is lost
    # (README "Differences from Fluentd").
    c("deny-keepalive-pipelined-no-ack", conf(sec, "  deny_keepalive true\n"),
      [dict(ok, pipeline=True), msg(1, ack=False), dict(ok, new_conn=True), msg(2)])
    # user_auth.
    users = [("alice", "pa"), ("bob", "pb")]
    ua = security(user_auth="true", users=users)
    c("user-auth-right", conf(ua), [ping(username="alice", password="pa"), msg(1),
                                    dict(ping(username="bob", password="pb"), new_conn=True), fwd(2)])
    c("user-auth-wrong-password", conf(ua), [ping(username="alice", password="pb"), msg(1),
                                             dict(ping(username="alice", password="pa"), new_conn=True), msg(2)])
    c("user-auth-unknown-user", conf(ua), [ping(username="carol", password="pa"), dict(ping(), new_conn=True),
                                           dict(ping(username="alice", password="pa"), new_conn=True), msg(1)])
    c("user-auth-wrong-key-right-user", conf(ua), [ping(shared_key="x", username="alice", password="pa"),
                                                   dict(ping(username="alice", password="pa"), new_conn=True), msg(1)])
    c("user-auth-user-nil", conf(ua), [ping(variant="user_nil", username="alice", password="pa"),
                                       dict(ping(variant="pass_int", username="alice", password="pa"), new_conn=True),
                                       dict(ping(username="alice", password="pa"), new_conn=True), msg(1)])
    # A username as msgpack bin is a binary Ruby String: equal to the configured name only when
    # it is ASCII.
    na = security(user_auth="true", users=[("josé", "pw"), ("ann", "pa")])
    c("user-auth-non-ascii", conf(na), [ping(username="josé", password="pw"), msg(1)])
    c("user-auth-non-ascii-bin", conf(na), [ping(username="josé", password="pw", variant="bin"),
                                            dict(ping(username="ann", password="pa", variant="bin"), new_conn=True), msg(1)])
    c("user-auth-non-ascii-json", conf(na), [ping(username="josé", password="pw", variant="json"),
                                             dict(ping(username="ann", password="pa", variant="json"), new_conn=True),
                                             dict(mode="json", frame=["t", T0, {"n": 1}])])
    c("user-auth-off-ignores-users", conf(security(users=users)), [ping(username="nobody", password="x"), msg(1)])
    c("user-auth-same-name-twice", conf(security(user_auth="true", users=[("alice", "one"), ("alice", "two")])),
      [ping(username="alice", password="two"), msg(1), dict(ping(username="alice", password="one"), new_conn=True), msg(2)])
    # <client>: 127.0.0.1 inside or outside the networks named, per-client keys and users.
    local = {"network": "127.0.0.0/8"}
    away = {"network": "10.0.0.0/8"}
    c("client-anonymous-denied", conf(security(anonymous="false", clients=[away])), [ok, msg(1)])
    c("client-network-allowed", conf(security(anonymous="false", clients=[away, local])), [ok, msg(1)])
    c("client-host-allowed", conf(security(anonymous="false", clients=[{"host": "127.0.0.1"}])), [ok, msg(1)])
    c("client-host-localhost", conf(security(anonymous="false", clients=[{"host": "localhost"}])), [ok, msg(1)])
    c("client-own-key", conf(security(clients=[dict(local, shared_key="mine")])),
      [ok, dict(ping(shared_key="mine"), new_conn=True), msg(1)])
    c("client-own-key-outside", conf(security(clients=[dict(away, shared_key="mine")])),
      [ping(shared_key="mine"), dict(ok, new_conn=True), msg(1)])
    c("client-first-match-wins", conf(security(clients=[dict(local, shared_key="first"), {"host": "127.0.0.1", "shared_key": "second"}])),
      [ping(shared_key="second"), dict(ping(shared_key="first"), new_conn=True), msg(1)])
    c("client-users", conf(security(user_auth="true", users=users, clients=[dict(local, users="bob")])),
      [ping(username="alice", password="pa"), dict(ping(username="bob", password="pb"), new_conn=True), msg(1)])
    c("client-users-outside", conf(security(user_auth="true", users=users, clients=[dict(away, users="bob")])),
      [ping(username="alice", password="pa"), msg(1)])
    c("client-users-unknown", conf(security(user_auth="true", users=users, clients=[dict(local, users="carol")])),
      [ping(username="alice", password="pa"), dict(ping(username="carol", password="x"), new_conn=True), msg(1, new_conn=True)])
    c("source-keys", conf(sec, "  source_address_key addr\n"), [ok, msg(1), fwd(2, "packed")])
    c("add-tag-prefix", conf(sec, "  add_tag_prefix pre\n"), [ok, msg(1)])
    c("no-security-ping", conf("", skip), [dict(ok, variant="before_helo", no_reply=True), msg(1)])

    c("source-hostname-key", conf(sec, "  source_hostname_key host\n"), [ok, msg(1), fwd(2, "compressed")])
    c("empty-shared-key-config", conf(security(shared_key='""', hostname='""')),
      [ping(shared_key="x"), dict(ping(shared_key=""), new_conn=True), msg(1)])
    c("heartbeat-before-ping", conf(sec), [dict(mode="raw", hex="c0"), msg(1), dict(ok, new_conn=True), msg(2)])
    c("ping-ext-time", conf(sec), [dict(mode="raw", hex="d7000000000100000000"), msg(1), dict(ok, new_conn=True), msg(2)])

    c("client-network-v4-mapped", conf(security(anonymous="false", clients=[{"network": "::ffff:127.0.0.1/128"}])), [ok, msg(1)])
    c("client-network-v6-only", conf(security(anonymous="false", clients=[{"network": "::1/128"}, {"host": "::1"}])), [ok, msg(1)])
    c("client-empty-key", conf(security(clients=[dict(local, shared_key='""')])),
      [ok, dict(ping(shared_key=""), new_conn=True), msg(1)])
    c("client-users-empty", conf(security(user_auth="true", users=users, clients=[dict(local, users='""')])),
      [ping(username="bob", password="pb"), msg(1)])
    c("user-auth-yes", conf(security(user_auth="yes", users=users)), [ping(), dict(ping(username="bob", password="pb"), new_conn=True), msg(1)])

    # deny_keepalive without <security>: the connection ends after the first frame, whatever it
    # was (an ack asked or not, a heartbeat, a frame that is not an array).
    def k(name, frames):
        case("fwdsec-keepalive-" + name, conf("", "  deny_keepalive true\n"), frames, raw_conf=True)

    # Where Fluentd closes at once (no ack to write), a frame sent right behind may still be read
    # and emitted before the close: the probe behind is a frame without events, acked or closed.
    probe = dict(mode="forward", tag="t", entries=[])
    k("deny-ack", [msg(1), msg(2), msg(3, new_conn=True)])
    k("deny-no-ack", [msg(1, ack=False), probe, msg(3, new_conn=True)])
    k("deny-heartbeat", [dict(mode="raw", hex="c0"), probe, msg(3, new_conn=True)])
    k("deny-not-array", [dict(mode="raw", hex="07"), probe, msg(3, new_conn=True)])
    case("fwdsec-keepalive-deny-over-limit", conf("", "  deny_keepalive true\n  chunk_size_limit 40\n"),
         [dict(msg(1), record={"n": 1, "pad": "x" * 60}), msg(2), msg(3, new_conn=True)], raw_conf=True)
    k("deny-forward-modes", [fwd(1), fwd(2, "packed"), fwd(3, "packed", new_conn=True), fwd(4, "compressed", new_conn=True)])
    case("fwdsec-keepalive-send-packet", conf("", "  send_keepalive_packet true\n"), [msg(1), msg(2)], raw_conf=True)
    case("fwdsec-keepalive-linger", conf("", "  linger_timeout 0\n"), [msg(1), msg(2, new_conn=True)], raw_conf=True)

    # Config checks (dry-run).
    def cfg(name, sec="", opts=""):
        case("config-fwdsec-" + name, source(sec, opts) + OUT_FILE, None, raw_conf=True)

    cfg("ok", security())
    cfg("user-without-password-no-auth", security(users=[("alice", None)]))
    cfg("client-host-ipv6", security(clients=[{"host": "::1"}]))
    cfg("client-network-zero-prefix", security(clients=[{"network": "10.0.0.0/08"}]))
    cfg("client-network-prefix-33", security(clients=[{"network": "10.0.0.0/33"}]))
    cfg("client-network-mask-gap", security(clients=[{"network": "10.0.0.0/255.0.255.0"}]))
    cfg("client-network-bracket", security(clients=[{"network": "[::1]/128"}]))
    cfg("client-network-zero-filled", security(clients=[{"network": "010.0.0.0/8"}]))
    cfg("client-network-empty-prefix", security(clients=[{"network": "10.0.0.0/"}]))
    cfg("client-network-empty", security(clients=[{"network": '""'}]))
    cfg("client-host-empty", security(clients=[{"host": '""'}]))
    cfg("client-users-bad", security(clients=[{"network": "127.0.0.0/8", "users": "[1,"}]))
    cfg("anonymous-bad-bool", security(anonymous="nope"))
    cfg("user-auth-empty", security(user_auth='""', users=[("a", "p")]))
    cfg("user-section-argument", security(extra="    <user x>\n      username a\n      password p\n    </user>\n"))
    cfg("transport-tcp-linger-bad", "", "  <transport tcp>\n    linger_timeout x\n  </transport>\n")
    cfg("send-keepalive-bad", "", "  send_keepalive_packet 1\n")
    cfg("no-shared-key", security(shared_key=None))
    cfg("no-self-hostname", security(hostname=None))
    cfg("user-without-password", security(user_auth="true", users=[("alice", None)]))
    cfg("user-without-username", security(user_auth="true", users=[(None, "p")]))
    cfg("user-auth-no-users", security(user_auth="true"))
    cfg("users-without-user-auth", security(users=[("alice", "p")]))
    cfg("no-anonymous-no-clients", security(anonymous="false"))
    cfg("client-host-and-network", security(clients=[{"host": "127.0.0.1", "network": "127.0.0.0/8"}]))
    cfg("client-neither", security(clients=[{"shared_key": "k"}]))
    cfg("client-network-no-prefix", security(clients=[{"network": "127.0.0.1"}]))
    cfg("client-network-mask", security(clients=[{"network": "10.0.0.0/255.0.0.0"}]))
    cfg("client-network-bad", security(clients=[{"network": "10.0.0/8"}]))
    cfg("client-network-ipv6", security(clients=[{"network": "::1/128"}]))
    cfg("client-network-host-bits", security(clients=[{"network": "127.0.0.1/8"}]))
    cfg("client-host-unresolvable", security(clients=[{"host": "no-such-host.invalid"}]))
    cfg("client-host-name", security(clients=[{"host": "localhost"}]))
    cfg("client-users-json", security(user_auth="true", users=[("a", "p")], clients=[{"network": "127.0.0.0/8", "users": '["a","b"]'}]))
    cfg("user-auth-bad-bool", security(user_auth="maybe", users=[("a", "p")]))
    cfg("unknown-param", security(extra="    shared_key_salt x\n"))
    cfg("two-sections", security() + security())
    cfg("empty-shared-key", security(shared_key="\"\""))
    cfg("deny-and-send-keepalive", "", "  deny_keepalive true\n  send_keepalive_packet true\n")
    cfg("deny-keepalive-send-false", "", "  deny_keepalive true\n  send_keepalive_packet false\n")
    cfg("linger-timeout", "", "  linger_timeout 5\n")
    cfg("linger-timeout-bad", "", "  linger_timeout 1.5\n")
    cfg("resolve-hostname-false-with-key", "", "  resolve_hostname false\n  source_hostname_key h\n")
    cfg("resolve-hostname-true", "", "  resolve_hostname true\n")
    cfg("blocking-timeout", "", "  blocking_timeout 1s\n")
    cfg("transport-linger", "", "  <transport tcp>\n    linger_timeout 5\n  </transport>\n")
