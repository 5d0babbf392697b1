//! Differential test of the Ruby-regexp translator against Ruby itself.
//!
//! Fluentd configs hold Ruby (Onigmo) regexps; logferry translates them to Rust's `regex` crate
//! (`parser::ruby_regex`, and `ruby::regexp` for grep and rewrite_tag_filter). The translator's
//! contract is to keep Ruby's meaning exactly or to refuse the pattern, never to compile a
//! pattern that silently matches differently. Ruby is the spec, so this test asks Ruby: the
//! table below goes to ONE `ruby` process (JSON on stdin), which reports for every pattern
//! whether it compiles and, for every haystack, the first match as byte offsets (whole match,
//! each numbered group, each named group). Then for every pattern:
//!
//! * Rust refuses it: allowed only if it is listed in [`EXPECTED_REFUSALS`] (with a word of the
//!   reason), so a regression that starts refusing ordinary patterns fails; a listed pattern
//!   that compiles fails too (the list stays exact).
//! * Ruby refuses it but Rust compiles it: failure.
//! * Both compile: `ruby_regex::compile(src, flags)` must find the same first match as Ruby —
//!   same span (one documented exception: a pattern ending in `\Z` is translated as
//!   `(?:\n?\z)`, so its match may also take the final newline), same group spans in Ruby's
//!   numbering (only named groups are numbered when a pattern has any), same named groups.
//!   For flags `i`/`m`, `ruby::regexp("/src/flags")` (which runs a single-line variant on
//!   haystacks without a newline) must agree too, through `is_match` and `captures_read`.
//!
//! Every mismatch is collected and reported at once. Ruby is required: without it the test
//! fails and says how to install it (`bash .ci/install-deps.sh`).
//!
//! Left out of the table, because the translator's module doc documents them as differences it
//! cannot write out: `\b`/`\B` next to U+200C/U+200D or `² ³ ¹ ¼ ½ ¾` (the engines disagree on
//! those eight word characters), characters assigned since Ruby's Unicode version, and matches
//! that Onigmo's search shortcuts skip (`/k\z/i` on the Kelvin sign).

use std::io::Write as _;
use std::process::{Command, Stdio};

use logferry_formats::parser::ruby_regex;
use logferry_formats::ruby;
use serde_json::{json, Value};

/// Haystacks tried with every pattern, after the pattern's own.
const COMMON_HAYSTACKS: &[&str] = &[
    "",
    "\n",
    "abc",
    "abc\n",
    "a\nb\nc\n",
    "\n\nx\n\n",
    "héllo wörld",
    "日本語 テキスト 123",
    "x ٣ y",
    "ÉCOLE école",
    "\tTab  spaces \r\n",
];

/// (Ruby pattern body, Ruby flags, haystacks besides [`COMMON_HAYSTACKS`]).
#[rustfmt::skip]
const CASES: &[(&str, &str, &[&str])] = &[
    // Anchors: ^ and $ are line anchors in Ruby; \A \z \Z.
    (r"^b$", "", &["a\nb\nc", "b", "b\n", "ab"]),
    (r"^$", "", &["a\n", "a\n\nb", "a"]),
    (r"^\s*$", "", &["  ", "a\n", "a\n \nb", "a\n \n"]),
    (r"^", "", &["x", "x\n"]),
    (r"$", "", &["x", "x\n"]),
    (r"\n^", "", &["a\n", "a\nb"]),
    (r"^a|b$", "", &["xb\nab", "ba"]),
    (r"(?:^|,)x", "", &["a,x", "x", "y\nx"]),
    (r"a$", "", &["a\nb", "ba", "a\n"]),
    (r"\Aabc\z", "", &["abc", "abc\n", "xabc"]),
    (r"abc\Z", "", &["abc", "abc\n", "abc\n\n", "abc\nx"]),
    (r"(?<x>.*)\Z", "m", &["ab\n", "ab", "a\nb\n\n"]),
    (r"\A\z", "", &["x"]),
    (r"^(?<msg>.*)$", "", &["hello\nworld", "x\n"]),
    (r"^.*$", "m", &["a\nb\n"]),
    (r"^[ \t]*#", "", &["  # c", "a\n # b"]),
    (r"^\.?", "", &["a.b", ".x"]),
    (r"(?i)^(?<m>.*)$", "", &["Ab\ncd"]),
    (r"^(?<x>a)?", "", &["ab", "b\na"]),
    (r"^a?$", "", &["a\n", "b\n"]),
    // The dot, with and without Ruby's m (dot matches newline).
    (r"a.c", "", &["a\nc", "abc", "aéc"]),
    (r"a.c", "m", &["a\nc", "abc"]),
    (r".+", "", &["ab\ncd"]),
    (r".+", "m", &["ab\ncd"]),
    (r"a(?m:.)b", "", &["a\nb"]),
    // \d \w \s \h and negations are ASCII in Ruby.
    (r"\d+", "", &["٣٣12", "x"]),
    (r"\D+", "", &["٣٣12"]),
    (r"\w+", "", &["é_ab", "\u{212A}k", "ſs"]),
    (r"\W+", "", &["é_ab", "a b"]),
    (r"\w+", "i", &["\u{212A}", "ſs", "ABC"]),
    (r"\W", "i", &["\u{212A}", "ſ", "a b"]),
    (r"[\w.]+", "", &["é_a.b"]),
    (r"[\w.-]+", "i", &["\u{212A}.a-b", "ſ"]),
    (r"[^\w\s]+", "", &["ab, cd!"]),
    (r"[^\W]+", "i", &["\u{212A}ab"]),
    (r"\s+", "", &["a \t\u{0B}\u{0C}\r\nb", "\u{A0}", "\u{2028}"]),
    (r"\S+", "", &["\u{A0}x y"]),
    (r"\h+", "", &["xx0aFz", "ｆ"]),
    (r"\H+", "", &["0aFz"]),
    (r"[\d\s]x", "", &[" x", "٣x"]),
    // POSIX brackets and \p{…} are Unicode in Ruby.
    (r"[[:alpha:]]+", "", &["1éa2", "Ⅻ", "e\u{301}", "\u{345}"]),
    (r"[[:^digit:]]+", "", &["12ab3", "٣"]),
    (r"[[:digit:]]+", "", &["x٣3"]),
    (r"[[:upper:]]+", "", &["Ⓐ", "aB", "Ⅻ"]),
    (r"[[:lower:]]+", "", &["ª", "ⓐ", "A"]),
    (r"[[:alnum:]]+", "", &["a\u{301}", "‿", "Ⅻ"]),
    (r"[[:word:]]+", "", &["a\u{301}", "‿", "\u{200D}"]),
    (r"[[:space:]]+", "", &["\u{A0}", "\u{85}", "\u{200B}", "\u{2028}"]),
    (r"[[:blank:]]+", "", &["\u{A0}\t", "\u{2028}"]),
    (r"[[:punct:]]+", "", &["$€!", "+<"]),
    (r"[[:cntrl:]]", "", &["\u{AD}", "\u{1}", "\u{E000}"]),
    (r"[[:xdigit:]]+", "i", &["Ａ", "aF"]),
    (r"[[:graph:]]+", "", &[" \u{AD}x", "\u{A0}"]),
    (r"[[:print:]]+", "", &["\u{A0}", "\u{AD}"]),
    (r"[[:ascii:]]+", "", &["abcé"]),
    (r"[[:alpha:][:digit:]]+", "", &["é1!"]),
    (r"[^[:space:]]+", "", &["  ab  "]),
    (r"[[:upper:]]", "i", &["é", "a"]),
    (r"\p{L}+", "", &["héllo", "123"]),
    (r"\p{^L}+", "", &["ab12cd"]),
    (r"\P{L}+", "", &["ab12cd"]),
    (r"\p{Alpha}+", "", &["Ⅻx"]),
    (r"\p{Greek}+", "", &["abc αβγ"]),
    (r"\p{Han}+", "", &["漢字kanji"]),
    (r"\p{Lu}\p{Ll}+", "", &["xÉcole"]),
    (r"\p{Digit}+", "", &["a٣1"]),
    (r"\p{Lu}", "i", &["é", "a"]),
    (r"\p{Greek}", "i", &["\u{345}"]),
    (r"\p{ Alpha }+", "", &["1ab2"]),
    (r"\p{sc=Greek}", "", &["α"]),
    (r"\pL", "", &["pL"]),
    // Word boundaries (Unicode in Ruby, unlike \w).
    (r"\bfoo\b", "", &["a foo b", "éfooé", "foo_", "٣foo"]),
    (r"\ba", "", &["éa", "a"]),
    (r"\Bb\B", "", &["abc", "b"]),
    (r"\b\w+\b", "", &["été x", "über uber"]),
    (r"\bé", "", &["é", "aé"]),
    // Groups: named (two syntaxes), plain, non-capturing, unmatched.
    (r"(?<year>\d{4})-(?<month>\d\d)", "", &["on 2024-05-01"]),
    (r"(?'a'x{,2})(?<b>{y})", "", &["xx{y}"]),
    (r"(a)(b)?(c)", "", &["ac", "abc"]),
    (r"(?<x>a)(b)(?<y>c)", "", &["abc"]),
    (r"(?:ab)+", "", &["ababx"]),
    (r"(a|ab)(c|bcd)(d*)", "", &["abcd"]),
    (r"(a*)*", "", &["b"]),
    (r"(a|b)*", "", &["ab"]),
    (r"(a?)*c", "", &["aac"]),
    (r"(a?)?b", "", &["b", "ab"]),
    (r"(a*)+", "", &["aa", "b"]),
    (r"(a|)*b", "", &["ab"]),
    (r"(?:(a)|)*b", "", &["ab", "b"]),
    (r"(?:(a)|b)*", "", &["ab"]),
    (r"(a)|b", "", &["b"]),
    (r"(?<x>a)|(?<x>b)", "", &["b"]),
    (r"(?<x>a){0}b", "", &["b"]),
    // Inline options.
    (r"(?i)abc", "", &["xABC"]),
    (r"a(?i)b|c", "", &["aB", "C", "c"]),
    (r"(a(?i)b|c)d", "", &["Cd", "aBd"]),
    (r"(?i:a)b", "", &["Ab", "AB"]),
    (r"(?i-m:a.b)", "m", &["A\nB", "AxB"]),
    (r"(?m)a.b", "", &["a\nb"]),
    (r"(?-i)a", "i", &["A", "a"]),
    (r"(?)a", "", &["a"]),
    (r"(?i-)a", "", &["A"]),
    (r"(?x) a b # comment", "", &["ab", "a b"]),
    (r"a b # [not a class", "x", &["ab"]),
    (r"a\ b[ ]c[#]", "x", &["a b c#", "ab c#"]),
    // Counted repetition, literal braces, lazy quantifiers.
    (r"^a{2}b{1,}c{0,1}$", "", &["aabbc", "abc"]),
    (r"a{,2}", "", &["aaa"]),
    (r"a{2,3}?", "", &["aaaa"]),
    (r"a{2,}?", "", &["aaaa"]),
    (r"a{2}?", "", &["aa"]),
    (r"x{y}", "", &["x{y}"]),
    (r"{", "", &["{"]),
    (r"a{,}", "", &["a{,}"]),
    (r"a{1,2,3}", "", &["a{1,2,3}"]),
    (r"a}", "", &["a}"]),
    (r"a+?b*?c??", "", &["aabbc"]),
    (r"x{2}{3}", "", &["xxxxxx"]),
    (r"a{2,1}", "", &["aa"]),
    (r"a{100001}", "", &["a"]),
    (r"{1}", "", &["{1}"]),
    (r"*a", "", &["a"]),
    (r"a**", "", &["aaa"]),
    // Alternation.
    (r"foo|foobar", "", &["foobar"]),
    (r"(foo|foobar)bar", "", &["foobarbar"]),
    (r"a|", "", &["b"]),
    // Escapes.
    (r"\e\a\0", "", &["\u{1b}\u{7}\0"]),
    (r"\x41\x4", "", &["A\u{4}"]),
    (r"\/\<a\>", "", &["/<a>"]),
    (r"\t\n\r\f\v", "", &["\t\n\r\u{C}\u{B}"]),
    (r"\u00e9\u{41 42}", "", &["éAB"]),
    (r"\.\*\+\?\(\)\[\]\{\}\|\^\$\\", "", &[".*+?()[]{}|^$\\"]),
    (r"\010\0101", "", &["\u{8}", "\u{8}1"]),
    (r"\x{41}", "", &["A"]),
    (r"\xc3\xa9", "", &["é"]),
    (r"\xff", "", &["ÿ"]),
    (r"\U00000041", "", &["A", "U00000041"]),
    (r"\y", "", &["y"]),
    (r"\cA", "", &["\u{1}"]),
    // Character classes.
    (r"[]a]", "", &["]"]),
    (r"[^]]+", "", &["ab]"]),
    (r"[a-z&&[^aeiou]]+", "", &["abcde"]),
    (r"[a\-z]+", "", &["b-az"]),
    (r"[-a]+[a-]+", "", &["-a-a"]),
    (r"[\[\]]+", "", &["a[]"]),
    (r"[\x41-\x43]+", "", &["ABCD"]),
    (r"[a--b]", "", &["-"]),
    (r"[a~~b]+", "", &["~ab"]),
    (r"[a-z]+", "i", &["\u{212A}ſABC"]),
    (r"[^a-z]", "i", &["\u{212A}"]),
    (r"[éè]", "i", &["É"]),
    (r"[b-a]", "", &["a"]),
    (r"[a-c-e]+", "", &["-de"]),
    (r"[\d-z]", "", &["-"]),
    (r"[a-z&&]", "", &["b"]),
    (r"[[:ascii:]]+", "i", &["ſ\u{212A}ab"]),
    (r"[\wk]", "i", &["\u{212A}"]),
    (r"[[:alpha:]]$", "i", &["ſt", "st é"]),
    (r"[^ ]$", "i", &["ſt", "st é", "ß"]),
    (r"\S+$", "i", &["a ſt", "ss é"]),
    // Case-insensitive matching, non-ASCII and Unicode case folding.
    (r"É", "i", &["é", "É", "e"]),
    (r"straße", "i", &["STRASSE", "Straße", "strasse"]),
    (r"strasse", "i", &["Straße", "STRAẞE", "ſtrasse", "ﬅrasse"]),
    (r"sss", "i", &["ßs", "sß"]),
    (r"ssss", "i", &["ßß", "sßs"]),
    (r"ffi|ffl", "i", &["ﬀi", "fﬁ", "ﬃ", "ﬄ", "fﬂ"]),
    (r"ſt", "i", &["ﬅ", "ST"]),
    (r"(?i)s(?-i)s", "", &["ß", "Ss"]),
    (r"s s", "xi", &["ß"]),
    (r"\x73s", "i", &["ß"]),
    (r"ß+", "i", &["ss"]),
    (r"\u00DF", "i", &["ss"]),
    (r"αι", "i", &["ᾳ"]),
    (r"success", "i", &["SUCCESS", "succeß", "ſuccess"]),
    (r"ﬁle", "i", &["file", "FILE"]),
    (r"first", "i", &["ﬁrst", "ﬁrﬆ"]),
    (r"k", "i", &["\u{212A}"]),
    (r"σ", "i", &["ς", "Σ"]),
    (r"s{2}", "i", &["ß"]),
    (r"(?i)ss|x", "", &["ß"]),
    // Typical Fluentd parser expressions.
    (r#"^(?<host>[^ ]*) [^ ]* (?<user>[^ ]*) \[(?<time>[^\]]*)\] "(?<method>\S+)(?: +(?<path>(?:[^\"]|\\.)*?)(?: +\S*)?)?" (?<code>[^ ]*) (?<size>[^ ]*)(?: "(?<referer>(?:[^\"]|\\.)*)" "(?<agent>(?:[^\"]|\\.)*)")?$"#, "", &[
        r#"192.168.0.1 - - [28/Feb/2013:12:00:00 +0900] "GET / HTTP/1.1" 200 777 "-" "Opera/12.0""#,
        "127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] \"GET /apache_pb.gif HTTP/1.0\" 200 2326\n",
    ]),
    (r#"^(?<remote>[^ ]*) (?<host>[^ ]*) (?<user>[^ ]*) \[(?<time>[^\]]*)\] "(?<method>\S+)(?: +(?<path>[^\"]*?)(?: +\S*)?)?" (?<code>[^ ]*) (?<size>[^ ]*)(?: "(?<referer>[^\"]*)" "(?<agent>[^\"]*)"(?:\s+(?<http_x_forwarded_for>[^ ]+))?)?$"#, "", &[
        r#"127.0.0.1 192.168.0.1 - [28/Feb/2013:12:00:00 +0900] "GET / HTTP/1.1" 200 777 "-" "Opera/12.0" 10.0.0.1"#,
    ]),
    (r"^\<(?<pri>[0-9]+)\>(?<time>[^ ]* {1,2}[^ ]* [^ ]*) (?<host>[^ ]*) (?<ident>[a-zA-Z0-9_\/\.\-]*)(?:\[(?<pid>[0-9]+)\])?(?:[^\:]*\:)? *(?<message>.*)$", "", &[
        "<6>Feb 28 12:00:00 192.168.0.1 fluentd[11111]: [error] Syslog test",
        "<13>Jan  1 00:00:00 host app: héllo\n",
    ]),
    (r"^(?<time>[^ ]*\s*[^ ]* [^ ]*) (?<host>[^ ]*) (?<ident>[a-zA-Z0-9_\/\.\-]*)(?:\[(?<pid>[0-9]+)\])?(?:[^\:]*\:)? *(?<message>.*)$", "", &[
        "Feb 28 12:00:00 192.168.0.1 fluentd[11111]: [error] Syslog test",
    ]),
    (r"^\[[^ ]* (?<time>[^\]]*)\] \[(?<level>[^\]]*)\](?: \[pid (?<pid>[^\]]*)\])? \[client (?<client>[^\]]*)\] (?<message>.*)$", "", &[
        "[Wed Oct 11 14:32:52 2000] [error] [client 127.0.0.1] client denied by server configuration",
    ]),
    (r"^(?<time>[^ ]*) (?<msg>.*)$", "", &["2024-01-01T00:00:00Z hello world", "t1 a\nt2 b\n"]),
    (r"^(?<key>[^=]+)=(?<value>.*)$", "", &["a=1\nb=2", "=x\nk=v\n"]),
    (r"^(?<time>\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}) \[(?<thread>.*)\] (?<level>[^\s]+)(?<message>.*)", "m", &[
        "2013-3-03 14:27:33 [main] ERROR Main - Exception\njavax.management.RuntimeErrorException: null\n",
        "2013-03-03 14:27:33 [main] INFO  Main - Start\n",
    ]),
    (r"\A\<(?<pri>[0-9]{1,3})\>[1-9]\d{0,2} (?<time>[^ ]+) (?<host>[!-~]{1,255}) (?<ident>[!-~]{1,48}) (?<pid>[!-~]{1,128}) (?<msgid>[!-~]{1,32}) (?<extradata>(?:\-|(?:\[.*?(?<!\\)\])+))(?: (?<message>.+))?\z", "", &["<16>1 2013-02-28T12:00:00.003Z 192.168.0.1 fluentd 11111 ID24224 - Hi"]),
    (r"fatal|error", "i", &["An ERROR occurred", "Fatal"]),
    (r"^\d{4}-\d{2}-\d{2}", "", &["x\n2024-01-01 y"]),
    // Constructs Rust's engine cannot run.
    (r"a(?=b)", "", &["ab"]),
    (r"(?<=a)b", "", &["ab"]),
    (r"(a)\1", "", &["aa"]),
    (r"(?>a+)b", "", &["aab"]),
    (r"a++", "", &["aa"]),
    (r"\Gx", "", &["x"]),
    (r"a\Kb", "", &["ab"]),
    (r"a\Zb", "", &["ab"]),
    (r"(?u)\w", "", &["é"]),
];

/// Patterns Rust may refuse, each with a word its error must contain. A refusal not listed here
/// fails the test, and so does a listed pattern that compiles.
#[rustfmt::skip]
const EXPECTED_REFUSALS: &[(&str, &str, &str)] = &[
    // Ruby's ^ does not match after a final newline; Rust's does.
    (r"^$", "", "^ before"),
    (r"^\s*$", "", "^ before"),
    (r"\n^", "", "^ before"),
    (r"^a?$", "", "^ before"),
    // Ruby records an extra, empty, iteration in captures.
    (r"(a*)*", "", "capture"),
    (r"(a?)*c", "", "capture"),
    (r"(a*)+", "", "capture"),
    (r"(a|)*b", "", "capture"),
    (r"(?<x>a){0}b", "", "zero times"),
    // Ruby's own case-insensitive rules.
    (r"[[:upper:]]", "i", "case-insensitive"),
    (r"\p{Lu}", "i", "case-insensitive"),
    (r"\p{Greek}", "i", "case-insensitive"),
    (r"[[:alpha:]]$", "i", "holds"),
    (r"[éè]", "i", "non-ASCII"),
    (r"[\wk]", "i", r"\w"),
    (r"s{2}", "i", "counted repetition"),
    (r"straße", "i", "ß"),
    (r"ﬁle", "i", "ﬁ"),
    (r"ß+", "i", "ß"),
    (r"\u00DF", "i", "ß"),
    (r"αι", "i", "several characters"),
    // Syntax Rust's engine lacks, or Ruby reads oddly.
    (r"(?<x>a)|(?<x>b)", "", "duplicate"),
    (r"x{2}{3}", "", "repetition of a repetition"),
    (r"a**", "", "repetition of a repetition"),
    (r"[a-z&&]", "", "&&"),
    (r"a{2}?", "", "optional"),
    (r"\pL", "", "property"),
    (r"\y", "", "escape"),
    (r"\U00000041", "", "escape"),
    (r"\cA", "", "control"),
    (r"\A\<(?<pri>[0-9]{1,3})\>[1-9]\d{0,2} (?<time>[^ ]+) (?<host>[!-~]{1,255}) (?<ident>[!-~]{1,48}) (?<pid>[!-~]{1,128}) (?<msgid>[!-~]{1,32}) (?<extradata>(?:\-|(?:\[.*?(?<!\\)\])+))(?: (?<message>.+))?\z", "", "lookbehind"),
    (r"a(?=b)", "", "lookahead"),
    (r"(?<=a)b", "", "lookbehind"),
    (r"(a)\1", "", "backreference"),
    (r"(?>a+)b", "", "atomic"),
    (r"a++", "", "possessive"),
    (r"\Gx", "", r"\G"),
    (r"a\Kb", "", r"\K"),
    (r"a\Zb", "", r"\Z"),
    (r"(?u)\w", "", "(?u)"),
];

/// Ruby's first match of one haystack: spans as byte offsets.
#[derive(Debug, PartialEq)]
struct Found {
    span: (usize, usize),
    groups: Vec<Option<(usize, usize)>>,
    names: Vec<(String, Option<(usize, usize)>)>,
}

/// Ruby's verdict on one pattern: its error, or the first match of each haystack.
type RubyResult = Result<Vec<Option<Found>>, String>;

/// Ruby reads `[{src, flags, hays}]` and writes `[{error}|{results: [null|{span, groups, names}]}]`.
/// Offsets are bytes (Ruby 3.1 has no `byteoffset`: the byte size of the text before the
/// character offset).
const RUBY_SCRIPT: &str = r#"
$VERBOSE = nil
cases = JSON.parse($stdin.read)
out = cases.map do |c|
  opts = 0
  opts |= Regexp::IGNORECASE if c["flags"].include?("i")
  opts |= Regexp::MULTILINE if c["flags"].include?("m")
  opts |= Regexp::EXTENDED if c["flags"].include?("x")
  begin
    re = Regexp.new(c["src"].dup.force_encoding(Encoding::UTF_8), opts)
  rescue RegexpError, SyntaxError => e
    next { "error" => e.message }
  end
  results = c["hays"].map do |h|
    s = h.dup.force_encoding(Encoding::UTF_8)
    m = re.match(s)
    next nil unless m
    span = lambda do |g|
      b = m.begin(g)
      b && [s[0, b].bytesize, s[0, m.end(g)].bytesize]
    end
    {
      "span" => span.call(0),
      "groups" => (1...m.size).map { |i| span.call(i) },
      "names" => m.names.map { |n| [n, span.call(n)] },
    }
  end
  { "results" => results }
end
print JSON.generate(out)
"#;

fn haystacks(own: &[&'static str]) -> Vec<&'static str> {
    own.iter().chain(COMMON_HAYSTACKS).copied().collect()
}

fn span_of(v: &Value) -> Option<(usize, usize)> {
    let a = v.as_array()?;
    Some((a[0].as_u64()? as usize, a[1].as_u64()? as usize))
}

/// Run the whole table through one Ruby process.
fn ruby_results() -> Vec<RubyResult> {
    let input: Vec<Value> = CASES
        .iter()
        .map(|(src, flags, own)| json!({"src": src, "flags": flags, "hays": haystacks(own)}))
        .collect();
    let ruby = std::env::var("RUBY").unwrap_or_else(|_| "ruby".into());
    let mut child = match Command::new(&ruby)
        .args(["-rjson", "-e", RUBY_SCRIPT])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    {
        Ok(c) => c,
        Err(e) => panic!(
            "cannot run `{ruby}` ({e}): this test compares the translator with Ruby itself; \
             install it with `bash .ci/install-deps.sh` (Debian package `ruby`)"
        ),
    };
    let mut stdin = child.stdin.take().expect("ruby stdin");
    let text = Value::Array(input).to_string();
    let writer = std::thread::spawn(move || stdin.write_all(text.as_bytes()));
    let out = child.wait_with_output().expect("ruby output");
    writer
        .join()
        .expect("writer thread")
        .expect("write to ruby");
    assert!(
        out.status.success(),
        "ruby failed ({}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let parsed: Value = serde_json::from_slice(&out.stdout).expect("ruby's JSON");
    let cases = parsed.as_array().expect("an array per case");
    assert_eq!(cases.len(), CASES.len(), "one result per case");
    cases
        .iter()
        .map(|c| {
            if let Some(e) = c.get("error") {
                return Err(e.as_str().unwrap_or_default().to_string());
            }
            Ok(c["results"]
                .as_array()
                .expect("results")
                .iter()
                .map(|r| {
                    (!r.is_null()).then(|| Found {
                        span: span_of(&r["span"]).expect("match span"),
                        groups: r["groups"]
                            .as_array()
                            .unwrap()
                            .iter()
                            .map(span_of)
                            .collect(),
                        names: r["names"]
                            .as_array()
                            .unwrap()
                            .iter()
                            .map(|p| (p[0].as_str().unwrap().to_string(), span_of(&p[1])))
                            .collect(),
                    })
                })
                .collect())
        })
        .collect()
}

/// Does `src` end with an unescaped `\Z`?
fn ends_with_cap_z(src: &str) -> bool {
    let Some(head) = src.strip_suffix(r"\Z") else {
        return false;
    };
    head.chars().rev().take_while(|&c| c == '\\').count() % 2 == 0
}

/// Rust's first match in the shape of Ruby's: groups renumbered as Ruby numbers them (only the
/// named groups when there are any).
fn rust_found(
    names: &[Option<&str>],
    span: (usize, usize),
    group: impl Fn(usize) -> Option<(usize, usize)>,
) -> Found {
    let named: Vec<usize> = (1..names.len()).filter(|&i| names[i].is_some()).collect();
    let numbered: Vec<usize> = if named.is_empty() {
        (1..names.len()).collect()
    } else {
        named.clone()
    };
    Found {
        span,
        groups: numbered.iter().map(|&i| group(i)).collect(),
        names: named
            .iter()
            .map(|&i| (names[i].unwrap().to_string(), group(i)))
            .collect(),
    }
}

/// Compare one match; the only allowed difference is the `\Z` final newline.
fn same_match(src: &str, hay: &str, ruby: &Option<Found>, rust: &Option<Found>) -> bool {
    match (ruby, rust) {
        (None, None) => true,
        (Some(a), Some(b)) => {
            let z_newline = ends_with_cap_z(src)
                && b.span == (a.span.0, a.span.1 + 1)
                && a.span.1 + 1 == hay.len()
                && hay.ends_with('\n');
            (a.span == b.span || z_newline) && a.groups == b.groups && {
                let mut x = a.names.clone();
                let mut y = b.names.clone();
                x.sort();
                y.sort();
                x == y
            }
        }
        _ => false,
    }
}

#[test]
fn translator_agrees_with_ruby() {
    let ruby = ruby_results();
    let mut problems: Vec<String> = Vec::new();
    let (mut compiled, mut refused, mut checks) = (0, 0, 0);
    for ((src, flags, own), ruby) in CASES.iter().zip(&ruby) {
        let hays = haystacks(own);
        let what = format!("/{src}/{flags}");
        let expected_refusal = EXPECTED_REFUSALS
            .iter()
            .find(|(s, f, _)| s == src && f == flags);
        let re = match ruby_regex::compile(src, flags) {
            Err(_) if ruby.is_err() => {
                // Both refuse it (Ruby's own syntax errors).
                refused += 1;
                if expected_refusal.is_some() {
                    problems.push(format!(
                        "{what}: Ruby refuses it too; drop it from EXPECTED_REFUSALS"
                    ));
                }
                continue;
            }
            Err(e) => {
                refused += 1;
                match expected_refusal {
                    None => {
                        problems.push(format!("{what}: refused, not in EXPECTED_REFUSALS: {e}"))
                    }
                    Some((_, _, needle)) if !e.contains(needle) => problems.push(format!(
                        "{what}: refused, but the error does not mention {needle:?}: {e}"
                    )),
                    Some(_) => {}
                }
                if ruby::regexp(&format!("/{src}/{flags}")).is_ok() && !flags.contains('x') {
                    problems.push(format!(
                        "{what}: ruby::regexp compiles what ruby_regex refuses"
                    ));
                }
                continue;
            }
            Ok(re) => re,
        };
        compiled += 1;
        if expected_refusal.is_some() {
            problems.push(format!("{what}: listed in EXPECTED_REFUSALS but compiles"));
        }
        let ruby = match ruby {
            Err(e) => {
                problems.push(format!(
                    "{what}: Ruby refuses it ({e}) but Rust compiles it"
                ));
                continue;
            }
            Ok(r) => r,
        };
        let names: Vec<Option<&str>> = re.capture_names().collect();
        for (hay, want) in hays.iter().zip(ruby) {
            checks += 1;
            let got = re.captures(hay).map(|c| {
                let m = c.get(0).unwrap();
                rust_found(&names, (m.start(), m.end()), |i| {
                    c.get(i).map(|g| (g.start(), g.end()))
                })
            });
            if !same_match(src, hay, want, &got) {
                problems.push(format!(
                    "{what} on {hay:?}:\n    ruby: {want:?}\n    rust: {got:?}"
                ));
            }
        }
        // grep / rewrite_tag_filter: `/body/flags` (i and m only).
        if flags.contains('x') {
            continue;
        }
        let rr = match ruby::regexp(&format!("/{src}/{flags}")) {
            Ok(rr) => rr,
            Err(e) => {
                problems.push(format!(
                    "{what}: ruby::regexp refuses what ruby_regex compiles: {e}"
                ));
                continue;
            }
        };
        let rnames: Vec<Option<&str>> = rr.regex().capture_names().collect();
        for (hay, want) in hays.iter().zip(ruby) {
            checks += 1;
            if rr.is_match(hay) != want.is_some() {
                problems.push(format!(
                    "ruby::regexp {what} on {hay:?}: is_match {} but Ruby {want:?}",
                    rr.is_match(hay)
                ));
            }
            let mut locs = rr.capture_locations();
            let got = rr
                .captures_read(&mut locs, hay)
                .map(|span| rust_found(&rnames, span, |i| locs.get(i)));
            if !same_match(src, hay, want, &got) {
                problems.push(format!(
                    "ruby::regexp {what} on {hay:?} (captures_read):\n    ruby: {want:?}\n    rust: {got:?}"
                ));
            }
        }
    }
    println!(
        "{} patterns: {compiled} compiled, {refused} refused; {checks} matches compared with Ruby",
        CASES.len()
    );
    assert!(
        problems.is_empty(),
        "{} disagreements with Ruby:\n{}",
        problems.len(),
        problems.join("\n")
    );
}
