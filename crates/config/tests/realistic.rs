//! A realistic Fluentd configuration, and `dump()` round trips.

use std::path::Path;

use logferry_config::{parse_str, parse_str_with_warnings, Element};

const CONFIG: &str = r##"# logferry / Fluentd config
<system>
  workers 1
  log_level info
  <log>
    format json
  </log>
</system>

<source>
  @type forward
  @id in_forward
  port 24224
  bind 0.0.0.0
</source>

<source>
  @type tail
  path /var/log/app/*.log
  pos_file /var/log/td-agent/app.pos
  tag app.access
  <parse>
    @type regexp
    expression /^(?<host>[^ ]*) (?<message>.*)$/
    time_format %d/%b/%Y:%H:%M:%S %z
    types {"code": "integer",
           "size": "integer"}
  </parse>
</source>

<filter app.**>
  @type record_transformer
  <record>
    hostname "#{Socket.gethostname}"
    tag_parts ${tag_parts[0]}
    note "say \"hi\"\tthere"
  </record>
</filter>

<match app.access>
  @type rewrite_tag_filter
  <rule>
    key message
    pattern /error/
    tag error.${tag}
  </rule>
</match>

<match {error,warn}.** system.**>
  @type copy
  <store>
    @type file
    path /var/log/fluent/error.%Y%m%d
    <buffer time,tag>
      @type file
      path /var/log/fluent/buffer/error
      timekey 1d
      timekey_wait 10m
      chunk_limit_size 8MB
      flush_at_shutdown true
    </buffer>
  </store>
  <store>
    @type stdout
  </store>
</match>

<label @ERROR>
  <match **>
    @type stdout
  </match>
</label>

<label @FLUENT_LOG>
  <match fluent.*>
    @type null
  </match>
</label>
"##;

fn parse(text: &str) -> Element {
    parse_str(text, "fluent.conf", Path::new(".")).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn realistic_config_tree() {
    let (root, warnings) = parse_str_with_warnings(CONFIG, "fluent.conf", Path::new(".")).unwrap();
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_eq!(root.name, "ROOT");
    let names: Vec<_> = root
        .elements
        .iter()
        .map(|e| (e.name.as_str(), e.arg.as_str()))
        .collect();
    assert_eq!(
        names,
        [
            ("system", ""),
            ("source", ""),
            ("source", ""),
            ("filter", "app.**"),
            ("match", "app.access"),
            ("match", "{error,warn}.** system.**"),
            ("label", "@ERROR"),
            ("label", "@FLUENT_LOG"),
        ]
    );
    let system = &root.elements[0];
    assert_eq!(system.value("workers"), Some("1"));
    assert_eq!(
        system.elements_named("log").next().unwrap().value("format"),
        Some("json")
    );

    let tail = &root.elements[2];
    assert_eq!((tail.pos.line, tail.pos.col), (17, 1));
    assert_eq!(tail.plugin_type().unwrap().value, "tail");
    let parse = tail.elements_named("parse").next().unwrap();
    assert_eq!(
        parse.value("expression"),
        Some("/^(?<host>[^ ]*) (?<message>.*)$/")
    );
    assert_eq!(parse.value("time_format"), Some("%d/%b/%Y:%H:%M:%S %z"));
    assert_eq!(
        parse.value("types"),
        Some(r#"{"code":"integer","size":"integer"}"#)
    );
    let types_param = parse.param("types").unwrap();
    assert_eq!((types_param.pos.line, types_param.pos.col), (26, 5));

    let record = root.elements[3].elements_named("record").next().unwrap();
    let host = hostname::get().unwrap().to_string_lossy().into_owned();
    assert_eq!(record.value("hostname"), Some(host.as_str()));
    assert_eq!(record.value("tag_parts"), Some("${tag_parts[0]}"));
    assert_eq!(record.value("note"), Some("say \"hi\"\tthere"));

    let copy = &root.elements[5];
    let stores: Vec<_> = copy.elements_named("store").collect();
    assert_eq!(stores.len(), 2);
    let buffer = stores[0].elements_named("buffer").next().unwrap();
    assert_eq!(buffer.arg, "time,tag");
    assert_eq!(
        buffer
            .value("chunk_limit_size")
            .map(logferry_config::types::size),
        Some(8 * 1024 * 1024)
    );
    assert_eq!(
        buffer.value("timekey").map(logferry_config::types::time),
        Some(86400.0)
    );
    assert_eq!(
        buffer
            .value("flush_at_shutdown")
            .and_then(logferry_config::types::bool),
        Some(true)
    );

    let error_label = &root.elements[6];
    assert_eq!(
        error_label.elements_named("match").next().unwrap().arg,
        "**"
    );
}

fn assert_round_trip(root: &Element) {
    let text = root.dump();
    let again =
        parse_str(&text, "dump.conf", Path::new(".")).unwrap_or_else(|e| panic!("{e}\n{text}"));
    assert!(
        root.content_eq(&again),
        "dump did not round-trip:\n{text}\n{root:#?}\n{again:#?}"
    );
    assert_eq!(again.dump(), text);
}

#[test]
fn dump_of_realistic_config_round_trips() {
    let root = parse(CONFIG);
    assert_round_trip(&root);
    let text = root.dump();
    assert!(text.starts_with("<system>\n  workers 1\n  log_level info\n  <log>\n    format json\n  </log>\n</system>\n\n<source>\n"), "{text}");
    assert!(
        text.contains("\n    types {\"code\":\"integer\",\"size\":\"integer\"}\n"),
        "{text}"
    );
    assert!(
        text.contains("\n    note \"say \\\"hi\\\"\\tthere\"\n"),
        "{text}"
    );
}

#[test]
fn dump_quotes_values_that_need_it() {
    let root = parse(concat!(
        "k0 top\n",
        "<match \"a>b\">\n",
        "  empty\n",
        "  comment_quirk # c\n",
        "  lead \"  spaces  \"\n",
        "  hashy \"v #x\"\n",
        "  multi \"l1\nl2\\r\"\n",
        "  interp \"\\#{not_code}\"\n",
        "  notjson \"[abc\"\n",
        "  json [1, {\"a\": \"b\"}]\n",
        "  q1 \"'single'\"\n",
        "  \"key with space\" v\n",
        "  \"#key\" v\n",
        "  back 'a\\b\\\\c'\n",
        "  ctl \"\\0\\f\\b\"\n",
        "</match>\n",
        "<m2>\n  \"include\" x\n</m2>\n",
    ));
    assert_round_trip(&root);
    let m = &root.elements[0];
    assert_eq!(m.value("interp"), Some("#{not_code}"));
    assert_eq!(m.value("back"), Some("a\\b\\c"));
    let text = root.dump();
    assert!(
        text.starts_with("k0 top\n\n<match \"a>b\">\n  empty \"\"\n  comment_quirk # c\n"),
        "{text}"
    );
}

#[test]
fn dump_of_a_section_includes_its_tags() {
    let root = parse("<match x>\n  @type null\n</match>\n");
    assert_eq!(
        root.elements[0].dump(),
        "<match x>\n  @type null\n</match>\n"
    );
    assert_eq!(root.dump(), "<match x>\n  @type null\n</match>\n");
}
