"""Curated cases of session 26's record_transformer hunt (`python3 tests/differential/hunt_rtruby26.py`).

`rtruby-real-*`: Ruby that published configs put in `${…}` with `enable_ruby true` beyond the
subset logferry ran before (Time methods, `Time.at`, comparisons, `=~`, Hash lookups, `to_json`,
`&.`, `ENV`, more String, Array and Integer methods), each on records whose values take every
branch (strings, numbers, nil, nested maps and arrays); what Ruby raises sends the event to
@ERROR. Written as msgpack so that types show.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen_cases as g  # noqa: E402

RECORDS = [
    {"s": "hello world", "i": 42, "f": -2.5, "n": None, "ts": 1700000123, "tf": 1700000123.25,
     "h": {"s": "x", "k": [1, 2]}, "a": [3, 1, "two", None, [3], 1], "e": "", "u": "Stra\u00dfe \u00e9t\u00e9",
     "m": "line\r\n", "j": "a\"b\\c/\u001f\u007f\u2028\u00e9", "big": 9007199254740993, "z": 0,
     "tp": "2023-11-14T22:13:20.5Z"},
    {"s": "Zebra", "i": -7, "f": 1e15, "n": None, "ts": "1700000123", "tf": 0.1, "h": {}, "a": [], "e": " ",
     "u": "\u00c9COLE", "m": "x\n\n", "j": "", "big": -1, "z": 0.0, "tp": "2023-11-14 22:13:20 +09:00"},
    {"i": "42", "f": 100.0, "s": "", "h": {"s": None}, "a": ["b", "a", "b"], "ts": 1.5, "tf": 0, "m": "abc",
     "j": {"k": [1.0, None, True]}, "big": 123, "z": 1, "tp": "14/Nov/2023:22:13:20 -0500"},
]

EXPRS = [
    # Time
    ("tiso", "time.iso8601"), ("tiso3", "time.iso8601(3)"), ("txml", "time.xmlschema"), ("txml9", "time.xmlschema(9)"),
    ("tutciso", "time.utc.iso8601"), ("tgetutc", "time.getutc.iso8601(6)"), ("tatutc", "Time.at(time).utc.to_s"),
    ("tatstr", "Time.at(time).strftime('%Y.%m.%d')"), ("tatgm", 'Time.at(time).getgm.strftime("%FT%T.%LZ")'),
    ("tutcz", "time.utc.strftime('%Z %z')"), ("tgmtime", "time.gmtime.to_s"), ("tati", "Time.at(time).to_i"),
    ("tparts", "[time.year, time.month, time.day, time.hour, time.min, time.sec, time.usec, time.nsec, time.wday, time.yday]"),
    ("tutcq", "[time.utc?, time.utc.utc?, time.getutc.utc?]"), ("tatrec", 'Time.at(record["ts"]).utc.iso8601(3)'),
    ("tatrecf", 'Time.at(record["tf"]).iso8601(6)'), ("tatlocal", "Time.at(time).localtime.to_s"),
    ("tzone", "[time.zone, time.utc.zone]"), ("tms", "(time.to_f * 1000).to_i"), ("tnowutc", "Time.now.utc.year > 2000"),
    ("tisoneg", "time.iso8601(-1)"), ("tiso10", "time.iso8601(10)"), ("tgmt", "time.gmtime.iso8601"),
    ("tround", "time.round.to_i"), ("tatfrac", "Time.at(1700000000.123456789).nsec"),
    # Time.parse, Time arithmetic
    ("tpi", 'Time.parse(record["tp"]).to_i'), ("tpf", 'Time.parse(record["tp"]).to_f'),
    ("tps", 'Time.parse(record["tp"]).to_s'), ("tputc", 'Time.parse(record["tp"]).getutc.strftime("%Y.%m.%d %H")'),
    ("tphour", 'Time.parse(record["tp"]).hour'), ("tpdiff", 'Time.parse(record["tp"]) - time'),
    ("tpiso", 'Time.parse(record["tp"]).iso8601(3)'), ("tpzone", '[Time.parse(record["tp"]).zone, Time.parse(record["tp"]).utc?]'),
    ("tpstrf", 'Time.parse(record["tp"]).strftime("%H:%M %z|%Z")'), ("tpbad", 'Time.parse(record["s"]).to_i'),
    ("tplus", '(time + 3600).iso8601'), ("tminus", '(time - 60).to_i'),
    # string interpolation, rescue, if/unless
    ("interp", '"#{tag}-#{record["i"]}"'), ("interpn", '"n=#{record["n"]}-#{"in-#{record["a"]}"}"'),
    ("interpu", '"\u00e9#{record["u"]}"'), ("rescue", 'record["zz"]["a"] rescue "unknown"'),
    ("rescue2", 'record["h"]["s"].upcase rescue record["i"]'), ("ifkw", 'if record["i"] == 42 then "y" elsif record["i"] then "n" else "none" end'),
    ("unless", 'unless record["n"]; "none"; else; "some"; end'), ("ifmod", 'record["s"].length if record["i"].is_a?(Integer)'),
    ("ifsemi", 'if record["log"] && record["log"].include?("ERROR"); "error"; else; ""; end'),
    # comparisons
    ("gt", 'record["i"] > 10'), ("ge", 'record["i"] >= 42'), ("lt", 'record["f"] < 0'), ("le", 'record["s"] <= "m"'),
    ("cmpmix", 'record["i"] > 1.5'), ("cmpstrint", 'record["s"] > 1'), ("cmpnil", 'record["n"] > 1'),
    ("cmpbig", 'record["big"] > 9007199254740992.0'), ("cmp3", 'record["i"] <=> 5'),
    ("cmpternary", 'record["i"].to_i >= 40 ? "high" : "low"'),
    # regexp operators
    ("eqtilde", 'record["s"] =~ /o/'), ("nottilde", 'record["s"] !~ /o/'), ("retilde", '/o/ =~ record["s"]'),
    ("tildeternary", 'record["s"] =~ /^h/ ? "h" : "other"'), ("matchq", 'record["s"].match?(/l+/)'),
    ("matchqstr", 'record["s"].match?("o")'), ("niltilde", 'record["n"] =~ /x/'), ("uni", 'record["u"] =~ /\u00e9/'),
    ("tildeint", 'record["i"] =~ /4/'),
    # Hash
    ("haskey", '[record.has_key?("s"), record.key?("zz"), record.member?("i"), record["h"].key?("s")]'),
    ("keys", "record.keys"), ("keysjoin", 'record["h"].keys.join(",")'), ("values", 'record["h"].values'),
    ("fetch", 'record.fetch("s")'), ("fetchdef", 'record.fetch("zz", "d")'), ("fetchnil", 'record.fetch("n", "d")'),
    ("fetchmiss", 'record.fetch("zz")'), ("hsize", 'record["h"].size'),
    # to_json
    ("tojson", "record.to_json"), ("tojsonh", 'record["h"].to_json'), ("tojsons", 'record["j"].to_json'),
    ("tojsonf", 'record["f"].to_json'), ("tojsonn", 'record["n"].to_json'), ("tojsona", 'record["a"].to_json'),
    ("tojsonsym", "[:a, 1.0, 100.0, 1e-5, nil, true].to_json"), ("tojsont", "tag_parts.to_json"),
    # safe navigation
    ("safenil", 'record["n"]&.upcase'), ("safestr", 'record["s"]&.upcase'), ("safedig", 'record["h"]&.dig("s")'),
    ("safechain", 'record["zz"]&.strip&.length'),
    # ENV
    ("env", 'ENV["LOGFERRY_HUNT_NOPE"] || "dflt"'), ("envfetch", 'ENV.fetch("LOGFERRY_HUNT_NOPE", "d2")'),
    ("envnil", 'ENV["LOGFERRY_HUNT_NOPE"].nil?'),
    # String
    ("cap", 'record["s"].capitalize'), ("capu", 'record["u"].capitalize'), ("swap", 'record["u"].swapcase'),
    ("chomp", 'record["m"].chomp'), ("chomparg", 'record["s"].chomp("d")'), ("chop", 'record["m"].chop'),
    ("tr", "record[\"s\"].tr('a-y', 'b-z')"), ("trdel", "record[\"s\"].tr('lo', '')"), ("del", 'record["s"].delete("l")'),
    ("squeeze", 'record["s"].squeeze'), ("rev", 'record["u"].reverse'), ("count", 'record["s"].count("lo")'),
    ("index", 'record["s"].index("o")'), ("rindex", 'record["s"].rindex("o")'), ("slice", 'record["s"].slice(0, 3)'),
    ("tosym", 'record["s"].to_sym'), ("ljust", 'record["s"].ljust(13, ".")'), ("rjust", 'record["s"].rjust(13)'),
    ("center", 'record["s"].center(15, "*")'), ("bytesize", 'record["u"].bytesize'), ("chars", 'record["e"].chars'), ("eqlq", 'record["s"].eql?("hello world")'),
    ("upfirst", 'record["s"][0].upcase + record["s"][1..-1]'), ("ord", 'record["s"].ord'),
    # Array
    ("uniq", 'record["a"].uniq'), ("compact", 'record["a"].compact'),
    ("asort", 'record["a"].sort'), ("arev", 'record["a"].reverse'), ("flat", 'record["a"].flatten'),
    ("acount", 'record["a"].count'), ("amax", "tag_parts.max"), ("asum", "[1, 2.5, 3].sum"), ("atake", 'record["a"].take(2)'),
    ("adrop", 'record["a"].drop(1)'), ("aindex", 'record["a"].index(1)'),
    # Numeric
    ("round", 'record["f"].round'), ("floor", 'record["f"].floor'), ("ceil", 'record["f"].ceil'),
    ("abs", 'record["i"].abs'), ("mod", 'record["i"].to_i % 5'), ("pow", "2 ** 10"), ("zero", 'record["z"].zero?'),
    ("even", 'record["i"].even?'), ("tos16", 'record["i"].to_s(16)'),
    # types
    ("isa", 'record["s"].is_a?(String)'), ("klass", 'record["i"].class.to_s'),
]


# The event time with nanoseconds (EventTime), and a record's later field seeing `time.utc`.
NSEC = [
    ("niso", "time.iso8601(9)"), ("nutc", "time.getutc.xmlschema(6)"), ("nparts", "[time.usec, time.nsec, time.to_f]"),
    ("nround", "time.round.to_i"), ("nstr", "time.strftime('%s.%N %L')"), ("nms", "(time.to_f * 1000).to_i"),
]


# Strings that are not UTF-8 (msgpack str: a Fluent Bit forwarder's, Oj's) and binary strings
# (bin: in_tail, tcp, a Fluentd forwarder) through the encoding methods people fix them with.
ENC = [
    ("scrub", 'record["k"].scrub'), ("scrubq", 'record["k"].scrub("?")'), ("scrube", 'record["k"].scrub("")'),
    ("valid", 'record["k"].valid_encoding?'), ("bin", 'record["k"].b'), ("feu", 'record["k"].dup.force_encoding("UTF-8")'),
    ("feus", 'record["k"].b.force_encoding("UTF-8").scrub'), ("feb", 'record["k"].dup.force_encoding("BINARY")'),
    ("blen", 'record["k"].b.length'), ("feup", 'record["k"].dup.force_encoding("UTF-8").scrub.upcase'),
    ("fevalid", 'record["k"].dup.force_encoding("UTF-8").valid_encoding?'), ("dupb", 'record["k"].dup.b.length'),
]
ENC_TEXTS = [{"$str_hex": "61ff62"}, {"$str_hex": "c3a9e282"}, {"$str_hex": "eda08078"}, {"$bin_hex": "61ff62"},
             {"$bin_hex": "c3a9"}, "plain", {"$bin_hex": "6162"}]


def body_of(exprs, more=""):
    body = "".join(g.filt("record_transformer", "enable_ruby true\n<record>\n  v ${%s}\n  w pre ${%s} post\n</record>"
                          % (e, e), n + ".**") for n, e in exprs) + more
    return body + (g.fileout("x", fmt="@type msgpack", inject="tag_key tg")
                   + g.label("@ERROR", g.fileout("error", fmt="@type msgpack", inject="tag_key tg")))


def main():
    g.OUT.clear()
    prefix = sys.argv[1] if len(sys.argv) > 1 else "rtruby-real"
    g.case(prefix + "-methods", body_of(EXPRS), [g.msg(r, tag=n + ".x", time=1700000000) for n, _ in EXPRS for r in RECORDS])
    # `time.utc` changes the record's `time` for the fields after it (Ruby changes the object).
    mut = g.filt("record_transformer", "enable_ruby true\n<record>\n  a ${time.iso8601}\n  b ${time.utc.iso8601}\n"
                 "  c ${time.iso8601}\n  d ${time.localtime.iso8601}\n  e ${time.utc?}\n</record>", "mut.**")
    # A key is expanded before its value: `time.utc` in a key shows in the value.
    mut += g.filt("record_transformer", "enable_ruby true\n<record>\n  k${time.utc.hour} ${time.iso8601}\n</record>",
                  "mutk.**")
    g.case(prefix + "-time-nsec", body_of(NSEC, mut),
           [g.msg({"k": 1}, tag=n + ".x", time={"$et": [1700000000, ns]}) for n, _ in NSEC + [("mut", ""), ("mutk", "")]
            for ns in (0, 123456789, 999999999, 500000000)])
    g.case(prefix + "-encoding", body_of(ENC),
           [g.msg({"k": t}, tag=n + ".x", time=1700000000) for n, _ in ENC for t in ENC_TEXTS])
    g.main()


if __name__ == "__main__":
    main()
