"""Curated cases of rtf26 (run `python3 tests/differential/hunt_rtf26.py` to write them).

The three plugins a central aggregator (forward in -> route -> HTTP/S3 out) leans on, against
Fluentd 1.16.11 with fluent-plugin-rewrite-tag-filter 2.4.0:

* `rtf-*`: rewrite_tag_filter's `<rule>` options (record accessor keys, pattern forms and the
  flags Fluentd's regexp type reads, `$N` back-references, every placeholder, `invert`,
  `label`), the top-level options (`capitalize_regex_backreference`, `remove_tag_prefix`,
  `remove_tag_regexp`, `hostname_command`, `emit_mode`), non-string values, rewritten tags that
  the filter matches again, and the configurations it refuses (`dry-run: error`).
* `grep-*`: `<regexp>`/`<exclude>` with `<and>`/`<or>`, the legacy `regexpN`/`excludeN`,
  accessor keys, non-string values, pattern flags, and the configurations grep refuses.
* `httpout-*`: what out_http sends (method, path, the kept headers, body) for endpoints with
  placeholders, the content type of each format, `json_array`, `headers`,
  `headers_from_placeholders`, `<auth>`, `<buffer> compress gzip`, error responses.

rewrite_tag_filter sits under `<match in.**>`; the tags it makes (never `in.…`) go to one
out_file (time, tag, JSON) so that the order of the re-emitted events shows. DIFFERS files and
`expected` are not written here: record.sh records `expected`.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen_cases as g  # noqa: E402

T0 = g.T0


def rule(key, pattern, tag, extra=""):
    body = "key %s\npattern %s\ntag %s\n" % (key, pattern, tag)
    if extra:
        body += extra.strip("\n") + "\n"
    return "<rule>\n%s</rule>\n" % g.indent(body)


def rtf_match(params, rules, pattern="in.**"):
    body = "@type rewrite_tag_filter\n"
    if params:
        body += params.strip("\n") + "\n"
    body += "".join(rules)
    return "<match %s>\n%s</match>\n" % (pattern, g.indent(body))


def rtf(name, params, rules, frames, pattern="in.**", after="", labels=""):
    g.case(name, rtf_match(params, rules, pattern) + after + g.fileout() + g.ERR + labels, frames)


def rtf_cfg(name, params, rules, pattern="in.**"):
    g.case(name, rtf_match(params, rules, pattern) + g.fileout())


def msgs(recs, tag="in.a", t0=T0):
    return [g.msg(r, tag=tag, time=t0 + i) for i, r in enumerate(recs)]


def fwd(tag, recs, t0=T0):
    return {"mode": "forward", "tag": tag, "entries": [[t0 + i, r] for i, r in enumerate(recs)]}


def rtf_cases():
    # --- keys: record accessor forms ---------------------------------------------------------
    rtf("rtf-key-accessor-forms", "",
        [rule("$['a']['b']", "/./", "bracket"), rule("$.arr[1]", "/./", "index"),
         rule("$['dot.key']", "/./", "dotkey"), rule("$.top", "/./", "top"),
         rule("$['sp ace']", "/./", "space"), rule("$.a.c[0].d", "/./", "deep"), rule("plain.dot", "/./", "plaindot")],
        msgs([{"a": {"b": "v"}}, {"arr": ["p", "q"]}, {"arr": ["p"]}, {"dot.key": "z"}, {"dot": {"key": "no"}},
              {"top": "t"}, {"sp ace": 1}, {"a": {"c": [{"d": 0}]}}, {"plain.dot": "x"}, {"plain": {"dot": "y"}},
              {"a": {"b": ""}}, {"a": "not a map"}]))
    # --- pattern forms and the flags Fluentd's regexp type reads (i, m; x is ignored) ----------
    rtf("rtf-pattern-flags", "",
        [rule("m", "/^a.b$/m", "flag.m"), rule("x", "/^a b$/x", "flag.x"), rule("i", "/^É/i", "flag.i"),
         rule("imx", "/A.B/mi", "flag.im"), rule("esc", "/a\\/b/", "slash.esc"), rule("bare", "a/b", "slash.bare"),
         rule("inline", "/(?i)abc/", "flag.inline"), rule("line", "/^b$/", "anchor.line"),
         rule("abs", "/\\Ab\\z/", "anchor.abs"), rule("dot", "/^.$/", "dot.nl")],
        msgs([{"m": "a\nb"}, {"m": "axb"}, {"x": "a b"}, {"x": "ab"}, {"i": "été"}, {"i": "Été"}, {"i": "ete"},
              {"imx": "a\nb"}, {"esc": "a/b"}, {"bare": "xa/by"}, {"inline": "ABC"}, {"line": "a\nb\nc"},
              {"abs": "b\n"}, {"abs": "b"}, {"dot": "\n"}, {"line": "b\n"}]))
    # Ruby regexp syntax in rule patterns.
    rtf("rtf-pattern-ruby-syntax", "",
        [rule("h", "/^(\\h+)$/", "r.hex.$1"), rule("p", "/^([[:upper:]]+)/", "r.posix.$1"),
         rule("g", "/(\\p{Greek}+)/", "r.greek.$1"), rule("k", "/^(?<w>ab)\\k<w>$/", "r.named"),
         rule("n", "/a\\Rb/", "r.linebreak"), rule("c", "/^(?i:ab)c$/", "r.group.flag"),
         rule("z", "/^a++b$/", "r.possessive"), rule("e", "/\\bend\\b/", "r.word")],
        msgs([{"h": "0fA9"}, {"h": "0fg"}, {"p": "ABc"}, {"g": "x αβγ y"}, {"k": "abab"}, {"k": "abac"},
              {"n": "a\r\nb"}, {"n": "a\nb"}, {"c": "ABc"}, {"c": "abC"}, {"z": "aaab"}, {"e": "the end."}, {"e": "ending"}]))
    # The whole tag removed: the new tag is empty.
    rtf("rtf-remove-prefix-empty-tag", "remove_tag_prefix in",
        [rule("k", "/^e$/", "${tag}"), rule("k", "/^p$/", "p${tag}")],
        [g.msg({"k": "e"}, tag="in"), g.msg({"k": "p"}, tag="in"), g.msg({"k": "e"}, tag="in.x")], pattern="in in.**")
    # `pattern /` and `/im`: a left slash whose right one is the first character itself, so the
    # body is empty (an empty regexp, matching every value).
    rtf("rtf-pattern-empty-bodies", "",
        [rule("a", "/", "empty.slash"), rule("b", "/im", "empty.flags"), rule("c", "//", "empty.pair"),
         rule("d", '""', "empty.quoted")],
        msgs([{"a": "x"}, {"a": ""}, {"b": "y"}, {"c": 0}, {"d": "z"}, {"e": "none"}]))
    # --- tags: placeholders --------------------------------------------------------------------
    rtf("rtf-tag-placeholders", "hostname_command echo hh",
        [rule("k", "/^a$/", "a.${tag}.__TAG__"), rule("k", "/^b$/", "b.${tag_parts[0]}.__TAG_PARTS[0]__"),
         rule("k", "/^c$/", "c.${tag_parts[3]}.${tag_parts[9]}.end"), rule("k", "/^d$/", "d.${tag_parts[-1]}"),
         rule("k", "/^e$/", "e.${hostname}.__HOSTNAME__"), rule("k", "/^f$/", "f.${nope}.__NOPE__.${TAG}.${Tag}"),
         rule("k", "/^g$/", "g.${tag_parts[01]}.${tag_parts[ 1]}"), rule("k", "/^h$/", "h.$${tag}.__${tag}__.${tag}${tag}"),
         rule("k", "/^i$/", "i.___TAG__.__TAG___.____")],
        msgs([{"k": c} for c in "abcdefghi"], tag="in.sub.x.y"))
    rtf("rtf-tag-parts-range-one-form", "", [rule("k", "/./", "r.${tag_parts[0..1]}.x")], msgs([{"k": 1}], tag="in.p.q"))
    rtf_cfg("rtf-config-tag-parts-range-both-forms", "", [rule("k", "/./", "r.${tag_parts[0..1]}.__TAG_PARTS[0...1]__")])
    rtf_cfg("rtf-config-tag-parts-range-dunder-only", "", [rule("k", "/./", "r.__TAG_PARTS[0..1]__")])
    # --- back-references -----------------------------------------------------------------------
    rtf("rtf-backref-forms", "",
        [rule("a", "/^(\\w+)-(\\w+)?-?(\\d*)$/", "b.$1.$2.$3.$4.$10.$0.$01.$$1.${1}.\\1")],
        msgs([{"a": "ab-cd-12"}, {"a": "ab--"}, {"a": "x"}, {"a": "ab-cd-"}]))
    rtf("rtf-backref-twelve-groups", "",
        [rule("a", "/^(a)(b)(c)(d)(e)(f)(g)(h)(i)(j)(k)(l)$/", "t.$1.$9.$10.$11.$12.$13")],
        msgs([{"a": "abcdefghijkl"}]))
    # A capture holding placeholder text is expanded, as the plugin does the placeholders last.
    rtf("rtf-capture-placeholder-text", "hostname_command echo hh",
        [rule("a", "/^(.*)$/", "cap.$1")],
        msgs([{"a": "${tag}"}, {"a": "__HOSTNAME__"}, {"a": "x${tag_parts[1]}y"}, {"a": "$1"}], tag="in.p"))
    rtf("rtf-capitalize", "capitalize_regex_backreference true",
        [rule("a", "/^(\\S+) (\\S*)$/", "c.$1.$2")],
        msgs([{"a": "hELLO wORLD"}, {"a": "élan ÉCOLE"}, {"a": "123abc x"}, {"a": "ǆx ǈy"}, {"a": "ßa ﬁx"},
              {"a": "ΣΑΣ σς"}, {"a": "i̇x İy"}, {"a": "solo "}]))
    # A group that did not take part is nil: `nil.capitalize` raises (the event goes to @ERROR).
    rtf("rtf-capitalize-nil-group", "capitalize_regex_backreference true",
        [rule("a", "/^(x)?(y)$/", "c.$2.$1")],
        msgs([{"a": "xy"}, {"a": "y"}, {"a": "xy"}]))
    # Fluentd sends the whole forward message to @ERROR (README "Differences from Fluentd",
    # DIFFERS); logferry only the event that raised.
    rtf("rtf-capitalize-nil-group-whole-message", "capitalize_regex_backreference true",
        [rule("a", "/^(x)?(y)$/", "c.$2.$1")], [fwd("in.f", [{"a": "xy"}, {"a": "y"}, {"a": "xy"}])])
    # --- remove_tag_prefix / remove_tag_regexp -------------------------------------------------
    tags = ["in.a.b", "in", "inx.c", "in..d", "in.in.e"]
    rtf("rtf-remove-tag-prefix-forms", "remove_tag_prefix in",
        [rule("k", "/./", "p.${tag}.${tag_parts[0]}.__TAG__")],
        [g.msg({"k": 1}, tag=t) for t in tags], pattern="in in.** inx.**")
    rtf("rtf-remove-tag-prefix-dot", "remove_tag_prefix in.",
        [rule("k", "/./", "p.${tag}.${tag_parts[0]}")],
        [g.msg({"k": 1}, tag=t) for t in tags], pattern="in in.** inx.**")
    rtf("rtf-remove-tag-prefix-regexp-chars", "remove_tag_prefix i*",
        [rule("k", "/./", "p.${tag}")],
        [g.msg({"k": 1}, tag=t) for t in ["i*.a", "in.b", "i.c"]], pattern="i*.** in.** i.**")
    rtf("rtf-remove-tag-regexp-forms", "remove_tag_regexp /\\.x\\./",
        [rule("k", "/./", "r.${tag}.${tag_parts[1]}")],
        [g.msg({"k": 1}, tag=t) for t in ["in.x.x.y", "in.a.x.b", "in.xx.y"]])
    rtf("rtf-remove-tag-regexp-flags", "remove_tag_regexp /^IN\\.(A|B)\\.?/i",
        [rule("k", "/./", "r.${tag}")],
        [g.msg({"k": 1}, tag=t) for t in ["in.a.z", "in.b", "in.c.z"]])
    # The new tag is compared with the original tag (not the one placeholders see).
    rtf("rtf-remove-prefix-same-tag-dropped", "remove_tag_prefix in",
        [rule("k", "/^same$/", "in.${tag}"), rule("k", "/^lab$/", "in.${tag}", "label @L")],
        msgs([{"k": "same"}, {"k": "lab"}, {"k": "none"}], tag="in.q"),
        labels=g.label("@L", g.fileout("l")))
    # --- hostname_command ----------------------------------------------------------------------
    rtf("rtf-hostname-command-crlf", "hostname_command printf 'h1\\r\\n'", [rule("k", "/./", "h.${hostname}.x")],
        msgs([{"k": 1}]))
    rtf("rtf-hostname-command-two-lines", "hostname_command printf 'h1\\nh2\\n\\n'",
        [rule("k", "/./", "h.__HOSTNAME__.x")], msgs([{"k": 1}]))
    rtf("rtf-hostname-command-false", "hostname_command false", [rule("k", "/./", "h.${hostname}.x")],
        msgs([{"k": 1}]))
    rtf("rtf-hostname-command-stderr-exit", "hostname_command sh -c 'echo out; echo err >&2; exit 3'",
        [rule("k", "/./", "h.${hostname}.x")], msgs([{"k": 1}]))
    rtf_cfg("rtf-config-hostname-command-missing", "hostname_command /nonexistent/logferry-hostname",
            [rule("k", "/./", "h.${hostname}")])
    # --- emit_mode -----------------------------------------------------------------------------
    alt = [{"k": "a"}, {"k": "b"}, {"k": "a"}, {"k": "z"}, {"k": "b"}, {"k": "a"}]
    rtf("rtf-emit-mode-batch-order", "", [rule("k", "/^(a|b)$/", "o.$1")], [fwd("in.f", alt)])
    rtf("rtf-emit-mode-record-order", "emit_mode record", [rule("k", "/^(a|b)$/", "o.$1")], [fwd("in.f", alt)])
    rtf("rtf-emit-mode-record-labels", "emit_mode record",
        [rule("k", "/^a$/", "${tag}", "label @L1"), rule("k", "/^b$/", "o.b")],
        [fwd("in.f", [{"k": c} for c in "abab"])], labels=g.label("@L1", g.fileout("l1")))
    rtf_cfg("rtf-config-emit-mode-bad", "emit_mode stream", [rule("k", "/./", "t")])
    # --- labels --------------------------------------------------------------------------------
    rtf("rtf-label-per-rule-batch", "",
        [rule("k", "/^a$/", "l.${tag}", "label @L1"), rule("k", "/^b$/", "${tag}", "label @L2"), rule("k", "/^c$/", "root.c")],
        [fwd("in.f", [{"k": c} for c in "abcabcz"])],
        labels=g.label("@L1", g.fileout("l1")) + g.label("@L2", g.fileout("l2")))
    g.case("rtf-label-root-from-label",
           g.SRC.replace("</source>", "  @label @L\n</source>") + g.label("@L", rtf_match("", [
               rule("k", "/^r$/", "back.root", "label @ROOT"), rule("k", "/^l$/", "stay.l")], pattern="**")
               + g.fileout("inlabel", pattern="back.**") + g.fileout("l")) + g.fileout("root") + g.TAIL,
           msgs([{"k": "r"}, {"k": "l"}]), raw_conf=True)
    rtf("rtf-label-undefined", "", [rule("k", "/^a$/", "u.x", "label @NOPE"), rule("k", "/^b$/", "ok.x")],
        msgs([{"k": "b"}, {"k": "a"}, {"k": "b"}]))
    # Fluentd sends the whole message to @ERROR, the events it had already re-emitted included
    # (DIFFERS); logferry only those of the missing label.
    rtf("rtf-label-undefined-whole-message", "", [rule("k", "/^a$/", "u.x", "label @NOPE"), rule("k", "/^b$/", "ok.x")],
        [fwd("in.f", [{"k": "b"}, {"k": "a"}, {"k": "b"}])])
    # --- a rewritten tag this filter matches again -----------------------------------------------
    rtf("rtf-rewritten-tag-matched-again", "", [rule("k", "/./", "out.${tag_parts[1]}")],
        msgs([{"k": 1}], tag="in.a") + msgs([{"k": 2}], tag="in.b") + msgs([{"k": 3}], tag="out.a"), pattern="in.** out.a")
    rtf("rtf-chain-two-filters", "", [rule("k", "/^(\\w)/", "mid.$1")],
        msgs([{"k": "x1"}, {"k": "y2"}, {"k": ""}]),
        after=rtf_match("", [rule("k", "/(\\d)$/", "out.${tag_parts[1]}.$1")], pattern="mid.**"))
    rtf("rtf-no-rule-matches", "", [rule("k", "/^yes$/", "y"), rule("j", "/^1$/", "j")],
        msgs([{"k": "no"}, {"j": 2}, {}, {"k": None, "j": None}, {"k": "yes"}]))
    # --- values that are not strings (Ruby's to_s / inspect) -------------------------------------
    vals = [1, -0.0, 1.0, 100.0, 1e15, 1e16, 1e20, 1.5e-5, 0.0001, 123456789.123, 18446744073709551615,
            -9223372036854775808, True, False, [1, "a", None, 1.5, {"k": "v"}], {"a": {"b": [True]}}, {}, [],
            "ctl\u0001", {"$f32": 1.5}, {"$f32": 0.1}, {"$bin_hex": "6869"},
            ["é", "q\"", "\u0001", "\u007f", "\\", "#{x}", "\u00a0", "\u200b"], {"n": None, "f": 2.0, "e": {}}]
    rtf("rtf-non-string-values", "", [rule("v", "/^(.*)$/m", "v.$1")], msgs([{"v": v} for v in vals]))
    # NaN and the infinities, an EventTime inside a record (msgpack output: JSON cannot hold them).
    special = [float("nan"), float("inf"), float("-inf"), {"$et": [1700000000, 0]}, [{"$et": [1700000001, 0]}],
               {"t": {"$et": [1700000002, 0]}}]
    g.case("rtf-non-string-values-special", rtf_match("", [rule("v", "/^(.*)$/m", "v.$1")])
           + g.fileout(fmt="@type msgpack", inject="tag_key tg") + g.ERR, msgs([{"v": v} for v in special]))
    g.case("rtf-non-string-values-inspect-bytes", rtf_match("", [rule("v", "/^(.*)$/m", "v.$1")])
           + g.fileout(fmt="@type msgpack", inject="tag_key tg") + g.ERR,
           msgs([{"v": v} for v in [[{"$bin_hex": "c3a9"}], [{"$str_hex": "61ff"}], {"k": {"$str_hex": "c3a9c3"}}, [{"$bin_hex": "00"}],
                                  [{"$f32": 0.1}], [1e100, -1e-7, 2.5e-5]]]))
    # A capture of a binary string makes a binary tag (out_file's format then raises on a tag
    # past ASCII, so the tag shows in the file's name).
    g.case("rtf-bin-capture", rtf_match("", [rule("v", "/^(.+)$/", "b.$1")])
           + g.match_section("@type file\npath {DIR}/out/${tag}\nappend true", fmt="@type json",
                             buffer="<buffer tag>\n  @type memory\n</buffer>") + g.ERR,
           msgs([{"v": {"$bin_hex": "c3a9"}}, {"v": {"$bin_hex": "41"}}]))
    # (msgpack: JSON output of invalid UTF-8 is a known difference of its own.)
    g.case("rtf-invalid-utf8-capture", rtf_match("", [rule("v", "/^(\\w+)(.)(\\w+)$/", "s.$1.$3.$2")])
           + g.fileout(fmt="@type msgpack", inject="tag_key tg") + g.ERR,
           msgs([{"v": {"$str_hex": "6162ff6364"}}, {"v": {"$str_hex": "61c3"}}]))
    # --- invert ----------------------------------------------------------------------------------
    rtf("rtf-invert-forms", "",
        [rule("a", "/^x$/", "inv.a.$1", "invert true"), rule("b", "/^$/", "inv.b", "invert true"),
         rule("c", "/^y$/", "inv.c", "invert true\nlabel @L")],
        msgs([{"a": "x", "b": "", "c": "y"}, {"b": "", "c": "y"}, {"a": "x", "b": None, "c": "q"},
              {"a": "x", "b": "bb"}, {"a": "x", "b": "", "c": None}]),
        labels=g.label("@L", g.fileout("l")))
    # --- configurations --------------------------------------------------------------------------
    rtf_cfg("rtf-config-rule-no-key", "", ["<rule>\n  pattern /./\n  tag t\n</rule>\n"])
    rtf_cfg("rtf-config-rule-no-pattern", "", ["<rule>\n  key k\n  tag t\n</rule>\n"])
    rtf_cfg("rtf-config-rule-no-tag", "", ["<rule>\n  key k\n  pattern /./\n</rule>\n"])
    rtf_cfg("rtf-config-rule-empty", "", ["<rule>\n</rule>\n"])
    rtf_cfg("rtf-config-legacy-rewriterule", "rewriterule1 k ^a$ t", [])
    rtf_cfg("rtf-config-legacy-rewriterule-with-rule", "rewriterule1 k ^a$ t", [rule("k", "/./", "t")])
    rtf_cfg("rtf-config-duplicate-slash-and-bare", "", [rule("k", "/a/", "t1"), rule("k", "a", "t2")])
    rtf_cfg("rtf-config-duplicate-x-flag", "", [rule("k", "/a/x", "t1"), rule("k", "/a/", "t2")])
    rtf_cfg("rtf-config-duplicate-other-tag", "", [rule("k", "/a/i", "t1"), rule("k", "/a/i", "t2", "label @L")])
    rtf_cfg("rtf-config-duplicate-invert-ok", "", [rule("k", "/a/", "t1"), rule("k", "/a/", "t2", "invert true")])
    rtf_cfg("rtf-config-duplicate-bang-key", "", [rule("k", "/a/", "t1", "invert true"), rule("k!", "/a/", "t2")])
    rtf_cfg("rtf-config-prefix-and-regexp", "remove_tag_prefix a\nremove_tag_regexp /b/", [rule("k", "/./", "t")])
    rtf_cfg("rtf-config-pattern-three-flags", "", [rule("k", "/a/mix", "t")])
    rtf_cfg("rtf-config-pattern-four-flags", "", [rule("k", "/a/mixo", "t")])
    rtf_cfg("rtf-config-invert-not-bool", "", [rule("k", "/a/", "t", "invert maybe")])
    rtf_cfg("rtf-config-capitalize-not-bool", "capitalize_regex_backreference 2", [rule("k", "/a/", "t")])


def grep(name, body, frames, fmt=None):
    g.case(name, g.filt("grep", body) + g.fileout(fmt=fmt) + g.ERR, frames)


def grep_cfg(name, body):
    g.case(name, g.filt("grep", body) + g.fileout())


def cond(kind, key, pattern):
    return "<%s>\n  key %s\n  pattern %s\n</%s>\n" % (kind, key, pattern, kind)


def sect(kind, inner):
    return "<%s>\n%s</%s>\n" % (kind, g.indent("".join(inner)), kind)


def grep_cases():
    body = (cond("regexp", "a", "/^y/") + sect("and", [cond("regexp", "b", "/1/"), cond("regexp", "c", "/2/")])
            + sect("or", [cond("regexp", "d", "/3/"), cond("regexp", "e", "/4/")]) + cond("exclude", "f", "/bad/")
            + sect("and", [cond("exclude", "g", "/5/"), cond("exclude", "h", "/6/")])
            + sect("or", [cond("exclude", "i", "/7/")]))
    base = {"a": "yes", "b": "1", "c": "2", "d": "3"}
    recs = [dict(base, n=0), dict(base, n=1, a="no"), dict(base, n=2, c="x"), dict(base, n=3, d="x"),
            dict(base, n=4, d="x", e="4"), dict(base, n=5, f="bad"), dict(base, n=6, g="5"), dict(base, n=7, g="5", h="6"),
            dict(base, n=8, i="7"), dict(base, n=9, h="6")]
    grep("grep-and-or-all-sections", body, [fwd("t", recs)])
    # Several <and> of excludes merge into one (drop only when all of them match); several <or>
    # of regexps into one (keep when any matches).
    body = (sect("and", [cond("exclude", "a", "/1/"), cond("exclude", "b", "/1/")]) + sect("and", [cond("exclude", "c", "/1/")])
            + sect("or", [cond("regexp", "x", "/1/")]) + sect("or", [cond("regexp", "y", "/1/")]))
    grep("grep-sections-merge", body, [fwd("t", [{"a": 1, "b": 1, "x": 1}, {"a": 1, "b": 1, "c": 1, "y": 1},
                                                  {"c": 1, "x": 1}, {"a": 1}, {"y": 11, "a": 1, "c": 1}])])
    grep("grep-empty-and-or-sections", "<and>\n</and>\n<or>\n</or>\n" + cond("exclude", "k", "/^d/"),
         [fwd("t", [{"k": "a"}, {"k": "d"}, {}])])
    # The same key in <or> regexps and top-level regexps: different groups, allowed.
    grep("grep-same-key-or-and-top", cond("regexp", "k", "/a/") + sect("or", [cond("regexp", "k", "/b/"), cond("regexp", "j", "/c/")]),
         [fwd("t", [{"k": "ab"}, {"k": "a", "j": "c"}, {"k": "a"}, {"k": "b", "j": "c"}])])
    grep("grep-legacy-forms", "regexp1 a ^x y$\nexclude1 b /z/\nregexp2 $.m.k ^v\nexclude20 c  two",
         [fwd("t", [{"a": "x y", "m": {"k": "v1"}}, {"a": "x y", "m": {"k": "v1"}, "b": "/z/"},
                    {"a": "x y", "m": {"k": "v1"}, "b": "z"}, {"a": "x  y", "m": {"k": "v"}},
                    {"a": "x y", "m": {"k": "v"}, "c": " two"}, {"a": "x y", "m": {"k": "v"}, "c": "two"}])])
    grep("grep-legacy-and-sections", "regexp1 a ^1$\n" + cond("regexp", "b", "/^2$/") + "exclude3 c ^3$\n"
         + cond("exclude", "d", "/^4$/"),
         [fwd("t", [{"a": 1, "b": 2}, {"a": 1}, {"a": 1, "b": 2, "c": 3}, {"a": 1, "b": 2, "d": 4}, {"a": 1, "b": 2, "d": 44}])])
    grep("grep-legacy-21-unused", "regexp21 a ^1$\nexclude21 b x",
         [fwd("t", [{"a": 2}, {"b": "x"}])])
    grep("grep-key-accessor-forms",
         cond("regexp", "$['a']['b']", "/^1$/") + cond("regexp", "$.arr[1]", "/^q$/") + cond("exclude", "$['dot.key']", "/z/"),
         [fwd("t", [{"a": {"b": 1}, "arr": ["p", "q"]}, {"a": {"b": 1}, "arr": ["p"]}, {"a": {"b": 1}, "arr": ["p", "q"], "dot.key": "z"},
                    {"a": {"b": 1}, "arr": ["p", "q"], "dot": {"key": "z"}}, {"a": {"b": 2}, "arr": ["p", "q"]}])])
    vals = [1.0, 100.0, 1e20, 1e16, 1e15, 0.0001, 1.5e-5, True, False, None, [1, "a"], {"k": None}, {}, [],
            {"$f32": 0.1}, {"$bin_hex": "6869"}, -0.0, 18446744073709551615]
    grep("grep-non-string-values", cond("regexp", "v", "/^(1\\.0|100\\.0|1\\.0e\\+20|1\\.0e\\+16|true|\\[1, \"a\"\\]|\\{\"k\"=>nil\\}|\\{\\}|0\\.1|hi|-0\\.0|18446744073709551615|1\\.5e-05)$/"),
         [fwd("t", [{"v": v, "i": i} for i, v in enumerate(vals)])])
    grep("grep-non-string-values-special", cond("regexp", "v", "/^(NaN|Infinity|-Infinity|1700000000)$/"),
         [fwd("t", [{"v": v, "i": i} for i, v in enumerate([float("nan"), float("inf"), float("-inf"), {"$et": [1700000000, 0]},
                                                            {"$et": [1700000001, 0]}, "NaN"])])], fmt="@type msgpack")
    grep("grep-inspect-invalid-utf8", cond("regexp", "v", '/^\\["a\\\\xFF"\\]$/'),
         [fwd("t", [{"v": [{"$str_hex": "61ff"}]}, {"v": ["a\ufffd"]}, {"v": "a\\xFF"}, {"v": ["a\\xFF"]}])], fmt="@type msgpack")
    grep("grep-key-array-of-maps", cond("regexp", "$.a[0].b", "/^1$/") + cond("exclude", "$['m']['n'][1]", "/x/"),
         [fwd("t", [{"a": [{"b": 1}]}, {"a": [{"b": 2}]}, {"a": [{"b": 1}], "m": {"n": [0, "x"]}}, {"a": []},
                    {"a": [{"b": 1}], "m": {"n": [0]}}])])
    grep("grep-nil-and-missing-empty-pattern", cond("regexp", "v", "/^$/"),
         [fwd("t", [{"v": None}, {}, {"v": ""}, {"v": " "}, {"v": []}])])
    grep("grep-pattern-flags", cond("regexp", "x", "/^a b$/x") + cond("regexp", "i", "/^É/i") + cond("regexp", "m", "/a.b/m")
         + cond("exclude", "l", "/^bad$/"),
         [fwd("t", [{"x": "a b", "i": "été", "m": "a\nb"}, {"x": "ab", "i": "été", "m": "a\nb"}, {"x": "a b", "i": "ete", "m": "a\nb"},
                    {"x": "a b", "i": "Été", "m": "a\nb", "l": "ok\nbad\nok"}, {"x": "a b", "i": "Été", "m": "a\nb", "l": "ok"}])])
    grep("grep-pattern-empty-bodies", cond("regexp", "a", "/") + cond("exclude", "b", "/ix"),
         [fwd("t", [{"a": "x"}, {}, {"a": "x", "b": ""}, {"a": "x", "b": "q"}])])
    grep("grep-invalid-utf8-scrubbed", cond("regexp", "v", "/^a\\?b$/") + cond("exclude", "w", "/\\?/"),
         [fwd("t", [{"v": {"$str_hex": "61ff62"}}, {"v": "a?b"}, {"v": "a?b", "w": {"$str_hex": "ff"}}, {"v": {"$str_hex": "61e282"}}])], fmt="@type msgpack")
    grep_cfg("grep-config-and-both", sect("and", [cond("regexp", "a", "/x/"), cond("exclude", "b", "/y/")]))
    grep_cfg("grep-config-or-both", sect("or", [cond("exclude", "a", "/x/"), cond("regexp", "b", "/y/")]))
    grep_cfg("grep-config-dup-top-regexp", cond("regexp", "a", "/x/") + cond("regexp", "a", "/y/"))
    grep_cfg("grep-config-dup-and-vs-top", cond("regexp", "a", "/x/") + sect("and", [cond("regexp", "a", "/y/")]))
    grep_cfg("grep-config-dup-or-exclude-vs-top", cond("exclude", "a", "/x/") + sect("or", [cond("exclude", "a", "/y/")]))
    grep_cfg("grep-config-dup-and-excludes-across", sect("and", [cond("exclude", "a", "/x/")]) + sect("and", [cond("exclude", "a", "/y/")]))
    grep_cfg("grep-config-dup-legacy-vs-section", "regexp1 a x\n" + cond("regexp", "a", "/y/"))
    grep_cfg("grep-config-legacy-one-word", "regexp1 onlykey")
    grep_cfg("grep-config-no-pattern", "<regexp>\n  key a\n</regexp>\n")
    grep_cfg("grep-config-and-no-key", sect("and", ["<regexp>\n  pattern /x/\n</regexp>\n"]))
    grep_cfg("grep-config-four-flags", cond("regexp", "a", "/x/imxo"))


def http(name, head, frames, fmt="@type json", extra="", buffer="<buffer>\n  @type memory\n</buffer>"):
    g.case(name, g.match_section("@type http\n" + head, extra=extra, fmt=fmt, buffer=buffer) + g.ERR, frames)


def http_cfg(name, head, fmt="@type json", buffer="<buffer>\n  @type memory\n</buffer>"):
    g.case(name, g.match_section("@type http\n" + head, fmt=fmt, buffer=buffer))


def http_cases():
    two = [g.msg({"m": "a", "n": 1}, tag="app.web"), g.msg({"m": "b", "n": 2}, tag="app.web", time=T0 + 1)]
    http("httpout-endpoint-tag-parts", "endpoint {HTTP}/p/${tag[0]}/${tag[1]}/${tag}",
         two + [g.msg({"m": "c"}, tag="app.db")], buffer="<buffer tag>\n  @type memory\n</buffer>")
    http("httpout-endpoint-time-and-key", "endpoint {HTTP}/t/%Y/%m/%d/%H/${k}",
         [g.msg({"k": "x"}), g.msg({"k": "y"}, time=T0 + 7200)],
         buffer="<buffer time,k>\n  @type memory\n  timekey 1h\n</buffer>")
    http("httpout-endpoint-query", "endpoint {HTTP}/q?a=1&t=${tag}&x=%20y", two, buffer="<buffer tag>\n  @type memory\n</buffer>")
    http("httpout-headers-content-type-overridden", 'endpoint {HTTP}/h\nheaders {"Content-Type":"text/x-mine","X-A":"1"}', two)
    http("httpout-content-type-explicit", "endpoint {HTTP}/h\ncontent_type application/vnd.x+json; charset=utf-8", two)
    http("httpout-headers-hash-syntax", "endpoint {HTTP}/h\nheaders X-A:1,X-B:two words", two)
    http("httpout-headers-json-number", 'endpoint {HTTP}/h\nheaders {"X-N":1,"X-F":1.5,"X-B":true}', two)
    http("httpout-headers-placeholders-keys", 'endpoint {HTTP}/h\nheaders_from_placeholders {"X-Tag":"${tag}","X-K":"${$.m.k}","X-T":"%Y-%m-%dT%H","X-Lit":"plain"}',
         [g.msg({"m": {"k": "v1"}}, tag="app.a"), g.msg({"m": {"k": "v2"}}, tag="app.a")],
         buffer="<buffer tag,time,$.m.k>\n  @type memory\n  timekey 1d\n</buffer>")
    http("httpout-headers-placeholder-not-chunk-key", 'endpoint {HTTP}/h\nheaders_from_placeholders {"X-K":"${k}","X-Tag":"${tag}"}', two)
    http("httpout-headers-and-placeholders-same-name", 'endpoint {HTTP}/h\nheaders {"X-A":"static"}\nheaders_from_placeholders {"X-A":"${tag}"}',
         two, buffer="<buffer tag>\n  @type memory\n</buffer>")
    # Net::HTTP's basic_auth sets Authorization first; a `headers` Authorization replaces it.
    http("httpout-auth-and-authorization-header", 'endpoint {HTTP}/h\nheaders {"Authorization":"Bearer tok"}',
         two, extra="<auth>\n  method basic\n  username u\n  password p\n</auth>")
    http("httpout-auth-no-credentials", "endpoint {HTTP}/h", two, extra="<auth>\n  method basic\n</auth>")
    http("httpout-auth-unicode-long", "endpoint {HTTP}/h", two,
         extra="<auth>\n  username us:er é\n  password %s\n</auth>" % ("p" * 70))
    http("httpout-format-tsv", "endpoint {HTTP}/f", two, fmt="@type tsv\nkeys m,n")
    http("httpout-format-hash", "endpoint {HTTP}/f", two, fmt="@type hash")
    http("httpout-format-stdout", "endpoint {HTTP}/f", two, fmt="@type stdout")
    http("httpout-headers-placeholder-tag-index", 'endpoint {HTTP}/h/${tag[-1]}\nheaders_from_placeholders {"X-P":"${tag[0]}-${tag[5]}-${tag[-2]}"}',
         two + [g.msg({"m": "c"}, tag="one")], buffer="<buffer tag>\n  @type memory\n</buffer>")
    http("httpout-headers-empty-and-case", 'endpoint {HTTP}/h\nheaders {"X-E":"","x-a":"1","X-A":"2"}', two)
    http("httpout-single-value-no-newline", "endpoint {HTTP}/s", two, fmt="@type single_value\nmessage_key m\nadd_newline false")
    http("httpout-json-array-one-per-chunk", "endpoint {HTTP}/a\njson_array true", two,
         buffer="<buffer>\n  @type memory\n  chunk_limit_records 1\n</buffer>")
    http("httpout-json-array-no-newline", "endpoint {HTTP}/a\njson_array true", two, fmt="@type json\nadd_newline false")
    http("httpout-json-array-crlf", "endpoint {HTTP}/a\njson_array true", two, fmt="@type json\nnewline crlf")
    http("httpout-json-array-content-type", "endpoint {HTTP}/a\njson_array true\ncontent_type text/plain", two)
    http("httpout-buffer-compress-gzip", "endpoint {HTTP}/z", two, buffer="<buffer>\n  @type memory\n  compress gzip\n</buffer>")
    http("httpout-buffer-compress-gzip-json-array", "endpoint {HTTP}/z\njson_array true", two,
         buffer="<buffer>\n  @type memory\n  compress gzip\n</buffer>")
    http("httpout-chunk-limit-records", "endpoint {HTTP}/c", [g.msg({"n": i}, time=T0 + i) for i in range(5)],
         buffer="<buffer>\n  @type memory\n  chunk_limit_records 2\n</buffer>")
    http("httpout-error-response-logged", "endpoint {HTTP}/status/500/e\nerror_response_as_unrecoverable false", two)
    http("httpout-error-404-no-secondary", "endpoint {HTTP}/status/404/e", two)
    http("httpout-redirect-not-followed", "endpoint {HTTP}/status/302/r\nerror_response_as_unrecoverable false", two)
    http("httpout-status-204-ok", "endpoint {HTTP}/status/204/ok", two)
    http_cfg("httpout-config-method-get", "endpoint {HTTP}/x\nhttp_method get")
    http_cfg("httpout-config-json-array-msgpack", "endpoint {HTTP}/x\njson_array true", fmt="@type msgpack")
    http_cfg("httpout-config-tsv-ok", "endpoint {HTTP}/x", fmt="@type tsv\nkeys a")
    http_cfg("httpout-config-retryable-codes-bad", "endpoint {HTTP}/x\nretryable_response_codes [abc]")
    http_cfg("httpout-config-auth-method-bad", "endpoint {HTTP}/x\n<auth>\n  method digest\n</auth>")


def main():
    g.OUT.clear()
    rtf_cases()
    grep_cases()
    http_cases()
    g.main()


if __name__ == "__main__":
    main()
