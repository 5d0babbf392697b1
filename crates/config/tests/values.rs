//! Reference §7.3 cases 18–22 and 24: values, quoting, interpolation, JSON, keys.

use std::path::Path;

use logferry_config::{parse_str, parse_str_with_warnings, ConfigError, Element};

fn parse(text: &str) -> Element {
    parse_str(text, "a.conf", Path::new(".")).unwrap_or_else(|e| panic!("{e}"))
}

fn parse_err(text: &str) -> ConfigError {
    match parse_str(text, "a.conf", Path::new(".")) {
        Ok(root) => panic!("expected an error, got {root:?}"),
        Err(e) => e,
    }
}

fn source(text: &str) -> Element {
    let root = parse(&format!("<source>\n{text}</source>\n"));
    root.elements[0].clone()
}

#[test]
fn case18_unquoted_values_and_comments() {
    let s = source(
        "  a value # comment\n  b value#x\n  g # c\n  k   x   y   \n  bare\n  last\tv\t# c\n",
    );
    assert_eq!(s.value("a"), Some("value"));
    assert_eq!(s.value("b"), Some("value#x"));
    assert_eq!(s.value("g"), Some("# c"));
    assert_eq!(s.value("k"), Some("x   y"));
    assert_eq!(s.value("bare"), Some(""));
    assert_eq!(s.value("last"), Some("v"));
    assert_eq!(s.params.len(), 6);
}

#[test]
fn bare_key_at_end_of_file_without_newline() {
    let root = parse("k1 v\nflag");
    assert_eq!(root.value("flag"), Some(""));
    assert_eq!(root.value("k1"), Some("v"));
}

#[test]
fn case19_double_and_single_quotes() {
    let s = source("  c \"dq \\\"x\\\" \\t y\"\n  d 'sq \\n \\' z'\n  e 'back\\\\slash'\n");
    assert_eq!(s.value("c"), Some("dq \"x\" \t y"));
    assert_eq!(s.value("d"), Some("sq \\n ' z"));
    assert_eq!(s.value("e"), Some("back\\slash"));
}

#[test]
fn double_quote_escapes_and_raw_newlines() {
    let s = source("  a \"\\r\\n\\f\\b\\0\\'\\\\\\#\\{\\ \"\n  b \"line1\nline2\"\n");
    assert_eq!(s.value("a"), Some("\r\n\u{c}\u{8}\0'\\#{ "));
    assert_eq!(s.value("b"), Some("line1\nline2"));
}

#[test]
fn case20_interpolation_only_in_double_quotes() {
    std::env::set_var("LOGFERRY_T20_FOO", "bar");
    let s = source(concat!(
        "  e \"#{ENV['LOGFERRY_T20_FOO']}-x\"\n",
        "  e2 \"#{ENV[\"LOGFERRY_T20_FOO\"]}\"\n",
        "  sq '#{ENV[\"LOGFERRY_T20_FOO\"]}-x'\n",
        "  uq #{ENV['LOGFERRY_T20_FOO']}-x\n",
        "  unset \"[#{ENV['LOGFERRY_T20_SURELY_UNSET']}]\"\n",
        "  f1 \"#{ENV.fetch('LOGFERRY_T20_SURELY_UNSET', 'dflt')}\"\n",
        "  f2 \"#{ENV.fetch(\"LOGFERRY_T20_FOO\", \"dflt\")}\"\n",
        "  f3 \"#{ENV.fetch('LOGFERRY_T20_FOO')}\"\n",
        "  w \"w#{worker_id}\"\n",
    ));
    assert_eq!(s.value("e"), Some("bar-x"));
    assert_eq!(s.value("e2"), Some("bar"));
    assert_eq!(s.value("sq"), Some("#{ENV[\"LOGFERRY_T20_FOO\"]}-x"));
    assert_eq!(s.value("uq"), Some("#{ENV['LOGFERRY_T20_FOO']}-x"));
    assert_eq!(s.value("unset"), Some("[]"));
    assert_eq!(s.value("f1"), Some("dflt"));
    assert_eq!(s.value("f2"), Some("bar"));
    assert_eq!(s.value("f3"), Some("bar"));
    assert_eq!(s.value("w"), Some("w0"));
}

#[test]
fn hostname_interpolation() {
    let want = hostname::get().unwrap().to_string_lossy().into_owned();
    let s = source("  h1 \"#{Socket.gethostname}\"\n  h2 \"#{hostname}.x\"\n");
    assert_eq!(s.value("h1"), Some(want.as_str()));
    assert_eq!(s.value("h2"), Some(format!("{want}.x").as_str()));
}

#[test]
fn interpolation_in_section_argument_and_key() {
    std::env::set_var("LOGFERRY_T20_ARG", "app");
    let root =
        parse("<match \"#{ENV['LOGFERRY_T20_ARG']}.**\">\n  \"k_#{worker_id}\" v\n</match>\n");
    assert_eq!(root.elements[0].arg, "app.**");
    assert_eq!(root.elements[0].value("k_0"), Some("v"));
}

#[test]
fn use_default_drops_the_parameter() {
    let s = source("  a 1\n  a \"#{use_default}\"\n  b 2\n");
    assert_eq!(s.value("a"), None);
    assert_eq!(s.value("b"), Some("2"));
}

#[test]
fn use_nil_drops_the_parameter_whatever_surrounds_it() {
    // Fluentd evaluates the whole double-quoted string as Ruby: `use_nil` anywhere in it makes
    // the value nil, i.e. the parameter is not set.
    let s = source(
        "  a 1\n  a \"x#{ENV['LOGFERRY_T20_SURELY_UNSET'] || use_nil}y\"\n  b \"#{ENV['LOGFERRY_T20_SURELY_UNSET'] || 24224}\"\n  c \"#{true}|#{1.5}|#{nil}\"\n",
    );
    assert_eq!(s.value("a"), None);
    assert_eq!(s.value("b"), Some("24224"));
    assert_eq!(s.value("c"), Some("true|1.5|"));
    let e = parse_err("<match \"#{use_nil}\">\n</match>\n");
    assert!(e.message.contains("use_nil is not allowed"), "{e}");
}

#[test]
fn worker_id_is_the_enclosing_worker_sections_first_id() {
    let root = parse(
        "<source>\n  a \"#{worker_id}\"\n</source>\n<worker 3>\n<source>\n  a \"w#{worker_id}\"\n</source>\n</worker>\n<worker 4-7>\n<match \"x#{worker_id}\">\n  a \"#{ENV['LOGFERRY_T20_SURELY_UNSET'] || worker_id}\"\n</match>\n</worker>\n",
    );
    assert_eq!(root.elements[0].value("a"), Some("0"));
    assert_eq!(root.elements[1].elements[0].value("a"), Some("w3"));
    assert_eq!(root.elements[2].elements[0].arg, "x4");
    assert_eq!(root.elements[2].elements[0].value("a"), Some("4"));
}

#[test]
fn fetch_without_default_of_unset_variable_is_an_error() {
    let e = parse_err("<source>\n  k \"ab#{ENV.fetch('LOGFERRY_T20_SURELY_UNSET')}\"\n</source>\n");
    let pos = e.pos.clone().unwrap();
    assert_eq!((pos.line, pos.col), (2, 8), "{e}");
    assert!(e.message.contains("LOGFERRY_T20_SURELY_UNSET"), "{e}");
}

#[test]
fn unsupported_ruby_is_an_error_at_its_position() {
    let e = parse_err("k1 v\nk2 \"x #{`rm -rf /`} y\"\n");
    assert_eq!(e.to_string().split(": ").next(), Some("a.conf:2:7"), "{e}");
    assert!(
        e.message
            .contains("unsupported Ruby expression in #{...}: `rm -rf /`; supported:"),
        "{e}"
    );
    let e = parse_err("k \"#{1 + 1}\"\n");
    assert!(e.message.contains("1 + 1"), "{e}");
}

#[test]
fn case21_json_values_reserialized_compact() {
    let s = source("  j {\"k\": \"v\",\n     \"k2\": 2}\n  i [1, 2, \"x\"]\n  after yes\n");
    assert_eq!(s.value("j"), Some(r#"{"k":"v","k2":2}"#));
    assert_eq!(s.value("i"), Some(r#"[1,2,"x"]"#));
    assert_eq!(s.value("after"), Some("yes"));
}

#[test]
fn multiline_json_keeps_key_order_and_skips_comments() {
    let s = source(concat!(
        "  rules [\n",
        "    {\"zeta\": 1, \"alpha\": {\"b\": [true, null]}}, # first rule\n",
        "    {\"msg\": \"has # and ] inside\"}\n",
        "  ] # trailing comment\n",
        "  next v\n",
    ));
    assert_eq!(
        s.value("rules"),
        Some(r#"[{"zeta":1,"alpha":{"b":[true,null]}},{"msg":"has # and ] inside"}]"#)
    );
    assert_eq!(s.value("next"), Some("v"));
}

#[test]
fn invalid_json_is_an_error_pointing_into_the_value() {
    let e = parse_err("<source>\n  types [a, b]\n</source>\n");
    let pos = e.pos.clone().unwrap();
    assert_eq!((pos.line, pos.col), (2, 10), "{e}");
    assert!(
        e.message
            .contains("invalid JSON array value started at a.conf:2:9"),
        "{e}"
    );
}

#[test]
fn unterminated_json_names_its_start() {
    let e = parse_err("k {\"a\": 1,\n  \"b\": 2\n");
    assert!(
        e.message
            .contains("unterminated JSON object started at a.conf:1:3"),
        "{e}"
    );
    assert_eq!(e.pos.unwrap().line, 3);
}

#[test]
fn case22_quoted_key_continuation_and_bad_escape() {
    let root = parse("\"quoted key\" v\n'single key' w\nm \"cont\\\ninued\"\n");
    assert_eq!(root.value("quoted key"), Some("v"));
    assert_eq!(root.value("single key"), Some("w"));
    assert_eq!(root.value("m"), Some("continued"));
    // A backslash before a CRLF continues past the \r only: the \n left is Fluentd's
    // "unexpected end of file in a double quoted string".
    let e = parse_err("m2 \"a\\\r\nb\"\n");
    assert!(
        e.message.contains("line break in the double-quoted string"),
        "{e}"
    );

    let e = parse_err("a 1\nx \"ab\\q\"\n");
    let pos = e.pos.clone().unwrap();
    assert_eq!((pos.line, pos.col), (2, 6), "{e}");
    assert!(e.message.contains("'\\q'"), "{e}");
}

#[test]
fn case24_v012_type_and_reserved_at_keys() {
    let root =
        parse("<match a.**>\n  type forward\n</match>\n<match b>\n  type x\n  @type y\n</match>\n");
    assert_eq!(
        root.elements[0].plugin_type().map(|p| p.value.as_str()),
        Some("forward")
    );
    assert_eq!(
        root.elements[1].plugin_type().map(|p| p.value.as_str()),
        Some("y")
    );

    let e = parse_err("<match a.**>\n  @type stdout\n  @foo x\n</match>\n");
    let pos = e.pos.clone().unwrap();
    assert_eq!((pos.line, pos.col), (3, 3), "{e}");
    assert!(e.message.contains("@foo"), "{e}");
}

#[test]
fn at_keys_error_in_top_sections_and_warn_deeper() {
    for (open, close) in [
        ("", ""),
        ("<source>\n", "</source>\n"),
        ("<filter x>\n", "</filter>\n"),
        ("<system>\n", "</system>\n"),
        ("<label @L>\n", "</label>\n"),
    ] {
        let text = format!("{open}@bogus 1\n{close}");
        assert!(
            parse_str(&text, "a.conf", Path::new(".")).is_err(),
            "{text}"
        );
    }
    let (root, warnings) = parse_str_with_warnings(
        "<match x>\n  <buffer>\n    @bogus 1\n  </buffer>\n</match>\n",
        "a.conf",
        Path::new("."),
    )
    .unwrap();
    assert_eq!(root.elements[0].elements[0].value("@bogus"), Some("1"));
    assert_eq!(warnings.len(), 1);
    assert_eq!((warnings[0].pos.line, warnings[0].pos.col), (3, 5));
    assert!(warnings[0].message.contains("@bogus"));
    let ok =
        parse("<source>\n  @type forward\n  @id in1\n  @label @X\n  @log_level debug\n</source>\n");
    assert_eq!(ok.elements[0].params.len(), 4);
}

#[test]
fn duplicate_keys_last_wins_in_first_position() {
    let (root, warnings) =
        parse_str_with_warnings("a 1\nb 2\na 3\n", "a.conf", Path::new(".")).unwrap();
    let keys: Vec<_> = root
        .params
        .iter()
        .map(|p| (p.key.as_str(), p.value.as_str()))
        .collect();
    assert_eq!(keys, [("a", "3"), ("b", "2")]);
    assert_eq!(root.param("a").unwrap().pos.line, 3);
    assert_eq!(warnings.len(), 1);
    assert!(
        warnings[0].message.contains("a.conf:1:1"),
        "{}",
        warnings[0]
    );
}

#[test]
fn section_arguments() {
    let root = parse(concat!(
        "<match a.** b.**>\n</match>\n",
        "<match \"x y\">\n</match>\n",
        "<match>\n</match>\n",
        "<label @OUT>\n</label>\n",
        "<match foo # not a comment >  # a comment\n</match>\n",
        "<match 'single q'>\n</match>\n",
    ));
    let args: Vec<_> = root.elements.iter().map(|e| e.arg.as_str()).collect();
    assert_eq!(
        args,
        [
            "a.** b.**",
            "x y",
            "",
            "@OUT",
            "foo # not a comment",
            "single q"
        ]
    );
}

#[test]
fn any_element_name_and_deep_nesting() {
    let root = parse(concat!(
        "<match x>\n  @type copy\n  <store>\n    @type file\n    <buffer time,tag>\n      timekey 1h\n",
        "    </buffer>\n    <format>\n      @type json\n    </format>\n  </store>\n",
        "  <rule_2>\n    k v\n  </rule_2>\n</match>\n",
    ));
    let m = &root.elements[0];
    let store = m.elements_named("store").next().unwrap();
    assert_eq!(
        store.elements_named("buffer").next().unwrap().arg,
        "time,tag"
    );
    assert_eq!(
        store
            .elements_named("buffer")
            .next()
            .unwrap()
            .value("timekey"),
        Some("1h")
    );
    assert_eq!(store.elements_named("format").count(), 1);
    assert_eq!(
        m.elements_named("rule_2").next().unwrap().value("k"),
        Some("v")
    );
    assert_eq!(m.elements_named("nope").count(), 0);
}

#[test]
fn include_word_is_a_plain_parameter_inside_sections() {
    let root = parse("<filter x>\n  include yes\n</filter>\n");
    assert_eq!(root.elements[0].value("include"), Some("yes"));
}

#[test]
fn crlf_line_endings() {
    let root = parse("<source>\r\n  @type forward\r\n  port 24224 # c\r\n  flag\r\n</source>\r\n");
    assert_eq!(root.elements[0].value("@type"), Some("forward"));
    assert_eq!(root.elements[0].value("port"), Some("24224"));
    assert_eq!(root.elements[0].value("flag"), Some(""));
}
