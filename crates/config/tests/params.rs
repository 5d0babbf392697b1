//! Parameters as data: typed reads take types and defaults from the declaration, and the same
//! declaration drives warnings, `--dry-run`'s resolved config and the schema.

use std::path::Path;

use logferry_config::params::{
    many, one, p, Body, Declarations, ParamType::*, PluginDecl, PluginKind, Spec,
};
use logferry_config::{parse_str, resolve, schema, Section};

static SERVER: Spec = Spec::new("t.server", "A server.").params(&[
    p("host", Str, "Host.").required(),
    p("port", Integer, "Port.").default("24224"),
]);

static V012: Spec = Spec::new("t.v012", "Old names.")
    .params(&[p("buffer_path", Str, "Old.")])
    .legacy();

static OUT: Spec = Spec::new("t", "A test output.")
    .params(&[
        p("flush_interval", Time, "Flush period.").default("60s"),
        p("chunk_limit_size", Size, "Chunk size.")
            .default("8m")
            .aliases(&["buffer_chunk_limit"]),
        p("mode", Enum(&["a", "b"]), "Mode.").default("a"),
        p("append", Bool, "Append.").default("false"),
        p("path", Str, "Path.").required(),
        p("label", Str, "No default."),
        p("password", Str, "Secret.").secret(),
        p("ruby", Bool, "Ruby.").refused("no Ruby here"),
    ])
    .sections(&[
        many("server", Body::Spec(&SERVER), "Servers."),
        one(
            "format",
            Body::Plugin(PluginKind::Formatter, Some("json")),
            "Format.",
        ),
    ])
    .extends(&[&V012]);

struct Decls;

impl Declarations for Decls {
    fn spec(&self, kind: PluginKind, name: &str) -> Option<&'static Spec> {
        (kind == PluginKind::Output && name == "t").then_some(&OUT)
    }
    fn plugins(&self) -> Vec<PluginDecl> {
        vec![PluginDecl {
            kind: PluginKind::Output,
            name: "t",
            spec: Some(&OUT),
        }]
    }
}

fn root(body: &str) -> logferry_config::Element {
    parse_str(
        &format!("<match **>\n  @type t\n{body}</match>\n"),
        "t.conf",
        Path::new("."),
    )
    .unwrap()
}

#[test]
fn typed_reads_take_declared_types_and_defaults() {
    let r = root("  path /x\n  buffer_chunk_limit 2k\n  <server>\n    host h\n  </server>\n");
    let s = Section::new(&r.elements[0], "t").declared(&OUT);
    assert_eq!(s.get::<f64>("flush_interval").unwrap(), 60.0);
    assert_eq!(
        s.get::<u64>("chunk_limit_size").unwrap(),
        2048,
        "read by its alias"
    );
    assert_eq!(s.get::<&str>("mode").unwrap(), "a");
    assert!(!s.get::<bool>("append").unwrap());
    assert_eq!(s.get::<String>("path").unwrap(), "/x");
    assert_eq!(s.get::<Option<String>>("label").unwrap(), None);
    let servers = s.sections("server");
    assert_eq!(
        servers[0].get::<i64>("port").unwrap(),
        24224,
        "sub-section declared"
    );
    assert_eq!(servers[0].get::<&str>("host").unwrap(), "h");
    assert!(s.warn_unused().is_empty());
}

#[test]
fn declared_errors_name_the_parameter() {
    let r = root("  mode c\n  append maybe\n  ruby true\n");
    let s = Section::new(&r.elements[0], "t").declared(&OUT);
    let e = s.get::<&str>("mode").unwrap_err().to_string();
    assert!(
        e.starts_with("t.conf:3:") && e.contains("'c' is not one of: a, b"),
        "{e}"
    );
    let e = s.get::<bool>("append").unwrap_err().to_string();
    assert!(e.contains("expected true or false, got 'maybe'"), "{e}");
    let e = s.get::<String>("path").unwrap_err().to_string();
    assert!(
        e.contains("'path' parameter is required by the t plugin"),
        "{e}"
    );
    let e = s.refuse_declared().unwrap_err().to_string();
    assert!(
        e.contains("'ruby' is not supported by logferry's t plugin: no Ruby here"),
        "{e}"
    );
}

#[test]
fn unknown_parameters_get_a_suggestion() {
    let r = root("  path /x\n  flush_intreval 1s\n  zzz 1\n");
    let s = Section::new(&r.elements[0], "t").declared(&OUT);
    s.get::<String>("path").unwrap();
    let w = s.warn_unused();
    assert!(
        w[0].contains("'flush_intreval'") && w[0].ends_with("(did you mean 'flush_interval'?)"),
        "{w:?}"
    );
    assert!(
        w[1].contains("'zzz'") && !w[1].contains("did you mean"),
        "{w:?}"
    );
}

#[test]
fn resolved_config_shows_unset_defaults_and_masks_secrets() {
    let r = root(
        "  path /x\n  password hunter2\n  flush_interval 5s\n  <server>\n    host h\n  </server>\n",
    );
    let text = resolve::resolved(&r, &Decls);
    assert!(
        text.contains("password xxxxxx") && !text.contains("hunter2"),
        "{text}"
    );
    assert!(text.contains("# default: chunk_limit_size 8m"), "{text}");
    assert!(text.contains("    # default: port 24224"), "{text}");
    assert!(!text.contains("# default: flush_interval"), "{text}");
    assert!(
        !text.contains("buffer_path"),
        "legacy names are not listed:\n{text}"
    );
    // The resolved text reads back as the same config.
    let again = parse_str(&text, "t.conf", Path::new(".")).unwrap();
    assert_eq!(again.elements[0].params.len(), r.elements[0].params.len());
}

#[test]
fn schema_describes_declared_parameters() {
    let s = schema::schema(&Decls);
    let def = &s["$defs"]["output.t"];
    assert_eq!(def["additionalProperties"], false);
    assert_eq!(def["properties"]["flush_interval"]["default"], "60s");
    assert_eq!(def["properties"]["mode"]["enum"][1], "b");
    assert_eq!(def["properties"]["buffer_chunk_limit"]["deprecated"], true);
    assert_eq!(def["properties"]["password"]["writeOnly"], true);
    assert_eq!(def["required"], serde_json::json!(["path"]));
    assert_eq!(
        def["properties"]["server"]["items"]["$ref"],
        "#/$defs/section.t.server"
    );
    assert!(s["$defs"]["section.t.server"]["properties"]["host"].is_object());
}
