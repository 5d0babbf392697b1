#!/usr/bin/env python3
"""Write the differential cases of record_transformer with `enable_ruby true` (rtruby-*): the
subset of Ruby expressions logferry evaluates (crates/formats/src/ruby_expr.rs), compared with
Fluentd running them as Ruby.

    gen_ruby.py     (then record.sh FLUENTD_BIN rtruby-...)
"""
import gen_cases as g
from gen_cases import ERR, T0, case, fileout, filt, msg


def rb(name, body, records, tag="app.web.x", auto=None, extra="", time=T0):
    head = "enable_ruby true\n"
    if auto is not None:
        head += "auto_typecast %s\n" % auto
    head += extra
    case("rtruby-" + name, filt("record_transformer", head + "<record>\n" + body.strip("\n") + "\n</record>") +
         fileout(fmt="@type json") + ERR, [msg(r, tag=tag, time=time) for r in records])


def cases():
    rb("corpus-gsub-backref",
       r'''  log ${record["log"].gsub(/card_no=(\d{6})\d+\u001f/, "card_no=\\1**********\u001f").gsub(/batch_key=.+\u001f/, "batch_key=******\u001f")}''',
       [{"log": "a card_no=1234567890123\u001f batch_key=abc\u001fz"}, {"log": "none"}])
    rb("corpus-scan-last-first",
       '  date ${record["1"].scan(/([0-9]+-[0-9]+-[0-9]+T[0-9]+:[0-9]+:[0-9]+Z).*/).last.first}\n  d ${record["2"]}',
       [{"1": "x 2023-01-02T03:04:05Z y 2024-01-02T03:04:05Z", "2": 7}, {"1": "no date", "2": None}])
    rb("corpus-strftime-nsec",
       "  time ${time.strftime('%Y-%m-%dT%H:%M:%S.%N%z')}\n  tag ${tag}\n  l ${time.strftime('%s %L %3N %b %a %j')}",
       [{"a": 1}])
    rb("corpus-tag-parts-now",
       "  now ${Time.now.to_i.to_s.length}\n  priority ${tag_parts[-1]}\n  facility ${tag_parts[-2]}\n  far ${tag_parts[-9]}",
       [{"a": 1}], tag="syslog.daemon.info")
    rb("corpus-match-index",
       r"  event ${record['message'].match(/^[A-Z\_]*/)[0].to_s}",
       [{"message": "SNMP_TRAP something"}, {"message": "lower"}])
    rb("bare-name-is-name-error", "  device ${host}", [{"host": "h1"}])
    rb("match-nil-then-index-error", "  e ${record['m'].match(/^x(y)/)[1]}", [{"m": "xy"}, {"m": "ab"}])
    rb("nil-method-error", '  u ${record["missing"].upcase}\n  k kept', [{"a": 1}])
    rb("string-plus-integer-error", '  s ${record["s"] + record["n"]}', [{"s": "a", "n": 1}, {"s": "a", "n": "b"}])
    rb("typecast-kinds",
       '  i ${record["i"] + 1}\n  f ${record["f"] * 2}\n  n ${record["x"]}\n  b ${record["b"]}\n  a ${record["a"]}\n  h ${record["h"]}\n  s ${record["s"]}\n  arr ${[record["i"], "x", nil]}',
       [{"i": 41, "f": 1.25, "b": False, "a": [1, "two", None], "h": {"k": [1, {"z": None}]}, "s": "str"}])
    rb("no-typecast",
       '  i ${record["i"] + 1}\n  n ${record["x"]}\n  a ${record["a"]}', [{"i": 41, "a": [1]}], auto="false")
    rb("interpolate-to-s",
       '  t i=${record["i"]} f=${record["f"]} n=${record["x"]} b=${record["b"]} a=${record["a"]} h=${record["h"]}\n  big ${record["big"]}/${record["small"]}/${1.0 / 3}',
       [{"i": -3, "f": 1e20, "b": True, "a": [1, "x", None, 2.5], "h": {"k": "v", "n": None}, "big": 1e16, "small": 1e-5}])
    rb("or-and-not",
       '  o ${record["x"] || "default"}\n  o2 ${record["f"] || "d"}\n  a ${record["s"] && record["s"].length}\n  n ${!record["x"]}\n  kw ${(record["x"] or "w") + (not record["s"]).to_s}\n  z ${record["z"] and 1}',
       [{"s": "abc", "f": False, "z": 0}])
    rb("ternary-nil-eq",
       '  t ${record["s"].nil? ? "nil" : "set"}\n  e ${record["i"] == 1.0 ? 1 : 2}\n  ne ${record["s"] != "abc"}\n  ea ${[1, "a"] == [1.0, "a"]}\n  ns ${record["x"].nil?}',
       [{"s": "abc", "i": 1}, {"i": 2}])
    rb("string-index",
       '  a ${record["s"][0]}\n  b ${record["s"][-1]}\n  c ${record["s"][1..3]}\n  d ${record["s"][1...3]}\n  e ${record["s"][2, 3]}\n  f ${record["s"][99]}\n  g ${record["s"][6..]}'.replace("\n  g ${record[\"s\"][6..]}", "") +
       '\n  h ${record["s"][6..9]}\n  i ${record["s"][7..9]}\n  j ${record["s"][-3..-1]}\n  k ${record["s"][3..1]}\n  l ${record["s"][-9, 2]}\n  m ${record["s"]["cd"]}\n  n ${record["s"]["zz"]}',
       [{"s": "abcdéf"}])
    rb("array-index",
       '  a ${record["a"][0]}\n  b ${record["a"][-1]}\n  c ${record["a"][1..2]}\n  d ${record["a"][1, 9]}\n  e ${record["a"][4..5]}\n  f ${record["a"][5..6]}\n  g ${record["a"].first}\n  h ${record["a"].last(2)}\n  i ${record["a"].first(0)}\n  j ${record["e"].first}',
       [{"a": [1, "b", None, [4]], "e": []}])
    rb("split",
       '  a ${record["s"].split(",")}\n  b ${record["s"].split(",", 2)}\n  c ${record["s"].split(",", -1)}\n  d ${record["w"].split}\n  e ${record["w"].split(" ", 2)}\n  f ${record["w"].split(/\\s+/)}\n  g ${record["s"].split("")}\n  h ${record["e"].split(",")}\n  i ${record["w"].split(" ", -1)}',
       [{"s": "a,b,,c,,", "w": "  x  y\tz  ", "e": ""}])
    rb("strip-case",
       '  a <${record["s"].strip}>\n  b <${record["s"].lstrip}>\n  c <${record["s"].rstrip}>\n  d ${record["u"].upcase}\n  e ${record["u"].downcase}',
       [{"s": " \t x y \n", "u": "Straße Ümlaut ÉCOLE ǅ"}])
    rb("sub-gsub",
       '  a ${record["s"].sub(/o/, "0")}\n  b ${record["s"].gsub(/o/, "0")}\n  c ${record["s"].gsub("o", "[\\\\0]")}\n  d ${record["s"].gsub(/(?<w>o+)/, "<\\\\k<w>>")}\n  e ${record["s"].gsub(/(f)(o)/, "\\\\2\\\\1\\\\3\\\\\\\\")}\n  f ${record["s"].gsub(/x*/, "-")}\n  g ${record["s"].sub(/b/, "\\\\`|\\\\\'")}\n  h ${record["s"].gsub("%40", "@")}',
       [{"s": "foo boo"}, {"s": "a%40b"}])
    rb("scan",
       '  a ${record["s"].scan(/\\d+/)}\n  b ${record["s"].scan(/(\\w)(\\d)?/)}\n  c ${record["s"].scan(/x*/).length}\n  d ${record["s"].scan(/\\d+/).join("+")}\n  e ${record["s"].scan("1")}',
       [{"s": "a1 b22 c"}])
    rb("predicates",
       '  a ${record["s"].start_with?("ab")}\n  b ${record["s"].end_with?("z")}\n  c ${record["s"].include?("cd")}\n  d ${record["a"].include?(2)}\n  e ${record["s"].empty?}\n  f ${record["a"].empty?}\n  g ${record["e"].empty?}',
       [{"s": "abcd", "a": [1, 2.0], "e": ""}])
    rb("length-size",
       '  a ${record["s"].length}\n  b ${record["a"].size}\n  c ${record["h"].length}\n  d ${record["i"].size}',
       [{"s": "héllo", "a": [1, 2], "h": {"x": 1}, "i": 5}])
    rb("to-i-to-s",
       '  a ${record["s"].to_i}\n  b ${record["t"].to_i}\n  c ${record["u"].to_i}\n  d ${record["f"].to_i}\n  e ${record["g"].to_i}\n  f ${record["i"].to_s}\n  g ${record["f"].to_s}\n  h ${record["x"].to_i}\n  i ${record["x"].to_s}\n  j ${record["v"].to_i}',
       [{"s": " 42abc", "t": "-1_000", "u": "x1", "f": -2.7, "g": 1e15, "i": 7, "v": "1__2"}])
    rb("arithmetic",
       '  a ${record["i"] / 2}\n  b ${record["i"] / -2}\n  c ${record["i"] * 3 - 1}\n  d ${record["i"] / 2.0}\n  e ${record["f"] + 1}\n  f ${1 + 2 * 3}\n  g ${(1 + 2) * 3}\n  h ${record["i"] - 10}\n  j ${record["s"] + "x" + record["s"]}\n  k ${[1] + [2]}',
       [{"i": 7, "f": 0.1, "s": "s"}])
    rb("divide-by-zero", '  a ${record["i"] / 0}', [{"i": 7}])
    rb("dig-nested",
       '  a ${record.dig("m", "k", 1, "z")}\n  b ${record["m"]["k"][0]}\n  c ${record.dig("m", "nope", "x")}\n  d ${record.dig("m", "k", 9)}',
       [{"m": {"k": [1, {"z": "deep"}]}}])
    rb("tag-vars",
       "  p ${tag_prefix[1]}\n  s ${tag_suffix[-2]}\n  parts ${tag_parts}\n  n ${tag_parts.length}\n  j ${tag_parts.join('/')}\n  h ${hostname == hostname}\n  up ${tag.upcase}",
       [{"a": 1}])
    rb("hash-new-named-match",
       "  campdt ${( record['request'].match(/[&?]utm_campdt[=](?<utm_campdt>.*?)(&|$)/) or Hash.new('') )[:utm_campdt]}\n  email ${( record['request'].match(/[&?]user_email[=](?<user_email>.*?)(&|$)/) or Hash.new('') )[:user_email].gsub('%40', '@')}",
       [{"request": "/x?utm_campdt=2023&user_email=a%40b.c&z=1"}, {"request": "/plain"}])
    rb("keys-and-json",
       '  ${tag_parts[0]}_key v\n  j {"k": "${record[\'i\'] + 1}", "l": ["${tag}", 2, null], "${tag}": "x${record[\'i\']}"}',
       [{"i": 1}])
    rb("time-values",
       "  s at ${time}\n  i ${time.to_i}\n  f ${time.to_f}\n  z ${time.to_s}",
       [{"a": 1}])
    rb("literal-text-brackets", "  a x[${tag}] (x) {y}\n  b a'b\"c ${record['i']}", [{"i": 1}])
    rb("string-literals",
       "  a ${'it\\'s'.length}\n  b ${\"tab\\there\".length}\n  c ${'a\\\\b'}\n  d ${\"\\u00e9\"}\n  e ${:sym.to_s}\n  f ${nil.to_s.empty?}",
       [{"a": 1}])
    rb("renew-record", '  only ${record["a"].to_s * 1}', [{"a": 1, "b": 2}], extra="renew_record true\n")
    rb("mixed-error-record-to-error", '  a ${record["a"].length}\n  b ${record["b"].length}', [{"a": "x", "b": "yy"}, {"a": "x", "b": 3}])
    rb("regexp-flags", '  a ${record["s"].gsub(/A B/i, "-")}\n  b ${record["s"].scan(/a.b/m)}\n  c ${record["s"].match(/^  a  # comment\n/x)}'.replace("\n  c ${record[\"s\"].match(/^  a  # comment\n/x)}", ""),
       [{"s": "a b\na\nb A B"}])

    # Second batch: named groups, times with nanoseconds, precedence, errors in keys.
    rb("named-groups",
       '  a ${record["s"].gsub(/(?<n>b)/, "[\\\\1|\\\\k<n>|\\\\0]")}\n  b ${record["s"].scan(/(?<l>[a-z])(?<d>\\d)?/)}\n  c ${record["s"].match(/(?<x>a)(b)/)[1]}\n  d ${record["s"].match(/(?<x>a)(b)/)[2]}\n  e ${record["s"].match(/(?<x>a)(b)/)["x"]}\n  f ${record["s"].gsub(/(a)(b)/, "\\\\2\\\\1")}',
       [{"s": "ab1c"}])
    rb("time-nsec",
       "  a ${time.strftime('%s.%N %L %3N %6N')}\n  b ${time.to_f}\n  c ${time.to_i}\n  d x${time}",
       [{"a": 1}], time={"$et": [T0, 123456789]})
    rb("precedence",
       '  a ${1 + 2 * 3 - 4 / 2}\n  b ${!record["x"] == true}\n  c ${record["x"] || record["y"] ? "t" : "f"}\n  d ${true ? false ? 1 : 2 : 3}\n  e ${(not record["x"]) && 5}\n  f ${-7 / 2}\n  g ${7 / -2.0}\n  h ${-2.to_s}',
       [{"y": 0}])
    rb("error-in-key", '  ${record["k"].upcase} v', [{"k": "a"}, {"j": 1}])
    rb("symbol-and-int-keys",
       '  a ${record[:a]}\n  b ${record["a"]}\n  c ${record["h"][1]}\n  d ${record.dig("h", "1")}',
       [{"a": 1, "h": {"1": "one"}}])
    rb("float-ops",
       '  a ${record["f"] + record["g"]}\n  b ${record["f"] * 3}\n  c ${record["i"] / 2.0}\n  d ${record["f"].to_i}\n  e ${0.1 + 0.2}\n  f ${record["f"] == 0.5}',
       [{"f": 0.5, "g": 1e-9, "i": 3}])
    rb("string-repeat-join",
       '  a ${record["s"] * 3}\n  b ${record["a"] * ","}\n  c ${record["a"] * 2}\n  d ${record["a"].join}\n  e ${record["n"].join("|")}',
       [{"s": "ab", "a": [1, "x", None], "n": [[1, [2]], 3]}])
    rb("case-unicode",
       '  a ${record["s"].upcase}\n  b ${record["s"].downcase}\n  c ${record["s"].length}',
       [{"s": "ﬁ ŉ İ ΣΑΣ ǈ Ω K"}])
    rb("gsub-special-chars",
       '  a ${record["s"].gsub(/\\./, "\\\\\\\\")}\n  b ${record["s"].gsub(".", "-")}\n  c ${record["s"].sub(/(x)?c/, "<\\\\1>")}\n  d ${record["s"].gsub(/$/, "!")}\n  e ${record["s"].gsub(/^/, ">")}',
       [{"s": "a.b.c"}, {"s": "l1\nl2"}])
    rb("nil-and-bool-methods",
       '  a ${record["x"].to_s}\n  b ${record["x"].to_i}\n  c ${record["t"].to_s}\n  d ${record["t"].nil?}\n  e ${record["x"].nil?}',
       [{"t": True}])
    rb("nil-plus-error", '  a ${record["x"] + 1}', [{"a": 1}])
    rb("integer-plus-string-error", '  a ${record["i"] + "1"}', [{"i": 1}])
    rb("split-edge",
       '  a ${record["s"].split(",", 3)}\n  b ${record["s"].split(",,")}\n  c ${record["t"].split(/,/)}\n  d ${record["t"].split(/x*/)}\n  e ${record["u"].split(" ")}',
       [{"s": ",a,,b,", "t": "a,b,,", "u": " \u3000a\u00a0b "}])

    rb("to-f",
       '  a ${record["s"].to_f}\n  b ${record["t"].to_f}\n  c ${record["u"].to_f}\n  d ${record["v"].to_f}\n  e ${record["i"].to_f}\n  f ${record["x"].to_f}\n  g ${record["w"].to_f}\n  h ${record["y"].to_f}',
       [{"s": " 2.5x", "t": "1_000.5", "u": ".5", "v": "1.e3", "i": 7, "w": "0x1A", "y": "  -4.5e+2z"}])


def main():
    g.OUT.clear()
    cases()
    g.main()


if __name__ == "__main__":
    main()
