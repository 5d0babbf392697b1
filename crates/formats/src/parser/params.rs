//! The declared parameters of every parser (`<parse>`, `<pattern>`, or v0.12 flat on the plugin).

use logferry_config::params::{many, p, Body, ParamDef, ParamType::*, PluginKind, Spec};

/// Fluentd's parser base parameters: the time field, `types` conversions and null patterns.
static BASE: Spec = Spec::new("parser base", "What every parser takes.").params(&[
    p("keep_time_key", Bool, "Keep the time field in the record.").default("false"),
    p(
        "estimate_current_event",
        Bool,
        "Use the current time when the text has none.",
    )
    .default("true"),
    p(
        "timeout",
        Time,
        "How long one parse may run: only a regexp on the backtracking engine (Oniguruma) can need it; a parse past it is not matched, as in Fluentd.",
    ),
    p(
        "null_value_pattern",
        Regexp,
        "Values matching it become null.",
    ),
    p("null_empty_string", Bool, "Empty values become null.").default("false"),
    p(
        "types",
        Hash,
        "Value conversions: `key:type,…` (integer, float, bool, string, time, array).",
    ),
    p(
        "types_delimiter",
        Str,
        "Between `types` entries (flat v0.12 form).",
    )
    .default(","),
    p(
        "types_label_delimiter",
        Str,
        "Between a key and its type (flat v0.12 form).",
    )
    .default(":"),
]).extends(&[&ZONE]);

/// The zone of a time field and the fallback formats, part of [`BASE`].
static ZONE: Spec = Spec::new("parser time zone", "How a time field's zone is read.").params(&[
    p(
        "time_format_fallbacks",
        Array,
        "Formats tried in turn with time_type mixed.",
    ),
    p("localtime", Bool, "Read times without zone as local time.").default("true"),
    p("utc", Bool, "Read times without zone as UTC.").default("false"),
    p(
        "timezone",
        Str,
        "Zone of times without zone (`+09:00`, `Asia/Tokyo`).",
    ),
]);

const fn time_key(default: Option<&'static str>) -> ParamDef {
    let d = p("time_key", Str, "The field holding the event time.");
    match default {
        Some(v) => d.default(v),
        None => d,
    }
}

const fn time_type(default: &'static str) -> ParamDef {
    p(
        "time_type",
        Enum(&["string", "unixtime", "float", "mixed"]),
        "How the time field is read.",
    )
    .default(default)
}

const fn time_format(default: Option<&'static str>) -> ParamDef {
    let d = p("time_format", Str, "strptime format of the time field.");
    match default {
        Some(v) => d.default(v),
        None => d,
    }
}

const REGEXP_FLAGS: [ParamDef; 2] = [
    p("ignorecase", Bool, "Match case-insensitively.").default("false"),
    p("multiline", Bool, "`.` also matches newlines.").default("false"),
];

/// `json`.
pub static JSON: Spec = Spec::new(
    "json",
    "A JSON object (an array gives one record per element).",
)
.params(&[
    p(
        "json_parser",
        Enum(&["oj", "yajl", "json"]),
        "Whose reading of JSON: Oj's (Fluentd's default, as its images ship it), yajl-ruby's or Ruby's json's.",
    )
    .default("oj"),
    p(
        "stream_buffer_size",
        Size,
        "How much the `exec` input reads at a time for its JSON stream (Fluentd's streaming reader, also used by the `exec_filter` output, which logferry lacks); no effect on the other plugins, as in Fluentd.",
    ),
    time_key(Some("time")),
    p(
        "time_type",
        Enum(&["string", "unixtime", "float", "mixed"]),
        "How the time field is read.",
    )
    .computed("float; string when time_format is set"),
    time_format(None),
])
.extends(&[&BASE]);

/// `regexp`.
pub static REGEXP: Spec = Spec::new("regexp", "Named captures of a Ruby regular expression.")
    .params(&[
        p(
            "expression",
            Regexp,
            "The regular expression (`/…/flags`), with named captures.",
        )
        .required(),
        REGEXP_FLAGS[0],
        REGEXP_FLAGS[1],
        time_key(Some("time")),
        time_type("string"),
        time_format(None),
    ])
    .extends(&[&BASE]);

/// `apache`, `nginx`: regexp with a built-in expression.
pub static APACHE: Spec = Spec::new(
    "apache",
    "Apache/nginx combined log lines (a built-in regexp).",
)
.params(&[
    REGEXP_FLAGS[0],
    REGEXP_FLAGS[1],
    time_key(Some("time")),
    time_type("string"),
    time_format(Some("%d/%b/%Y:%H:%M:%S %z")),
])
.extends(&[&BASE]);

/// `apache_error`.
pub static APACHE_ERROR: Spec = Spec::new(
    "apache_error",
    "Apache error log lines (a built-in regexp).",
)
.params(&[
    REGEXP_FLAGS[0],
    REGEXP_FLAGS[1],
    time_key(Some("time")),
    time_type("string"),
    time_format(None),
])
.extends(&[&BASE]);

/// `apache2`.
pub static APACHE2: Spec = Spec::new(
    "apache2",
    "Apache combined log lines (Fluentd's hand-written parser).",
)
.params(&[time_type("string"), time_format(None)])
.extends(&[&BASE]);

/// `syslog`.
pub static SYSLOG: Spec = Spec::new("syslog", "RFC 3164 or RFC 5424 syslog lines.")
    .params(&[
        p("with_priority", Bool, "The line starts with `<PRI>`.").default("false"),
        p(
            "message_format",
            Enum(&["rfc3164", "rfc5424", "auto"]),
            "Which syslog format.",
        )
        .default("rfc3164"),
        p(
            "rfc5424_time_format",
            Str,
            "strptime format of RFC 5424 times.",
        )
        .default("%Y-%m-%dT%H:%M:%S.%L%z"),
        p(
            "parser_engine",
            Enum(&["regexp", "string"]),
            "Accepted for Fluentd compatibility (one engine).",
        )
        .default("regexp")
        .aliases(&["parser_type"]),
        p(
            "support_colonless_ident",
            Bool,
            "Accept an ident without colon.",
        )
        .default("true"),
        time_type("string"),
        time_format(Some("%b %d %H:%M:%S")),
    ])
    .extends(&[&BASE]);

/// `ltsv`.
pub static LTSV: Spec = Spec::new("ltsv", "Labelled tab-separated values.")
    .params(&[
        p("delimiter", Str, "Between fields.").default("\t"),
        p("label_delimiter", Str, "Between a label and its value.").default(":"),
        time_key(Some("time")),
        time_type("string"),
        time_format(None),
    ])
    .extends(&[&BASE]);

/// `csv`.
pub static CSV: Spec = Spec::new("csv", "Comma-separated values.")
    .params(&[
        p("keys", Array, "The field names, in order.").required(),
        p("delimiter", Str, "Between fields.").default(","),
        p(
            "parser_engine",
            Enum(&["normal", "fast"]),
            "Accepted for Fluentd compatibility (one engine).",
        )
        .default("normal")
        .aliases(&["parser_type"]),
        time_key(None),
        time_type("string"),
        time_format(None),
    ])
    .extends(&[&BASE]);

/// `tsv`.
pub static TSV: Spec = Spec::new("tsv", "Tab-separated values.")
    .params(&[
        p("keys", Array, "The field names, in order.").required(),
        p("delimiter", Str, "Between fields.").default("\t"),
        time_key(None),
        time_type("string"),
        time_format(None),
    ])
    .extends(&[&BASE]);

/// `msgpack`.
pub static MSGPACK: Spec = Spec::new(
    "msgpack",
    "Each msgpack object of the (binary) text a record.",
)
.params(&[time_key(None), time_type("string"), time_format(None)])
.extends(&[&BASE]);

/// `none`.
pub static NONE: Spec = Spec::new("none", "The whole text as one field.").params(&[
    p("message_key", Str, "The field it goes in.").default("message"),
    p("estimate_current_event", Bool, "Use the current time.").default("true"),
]);

/// `multiline`.
pub static MULTILINE: Spec = Spec::new(
    "multiline",
    "format1 … format20 joined into one regexp over several lines.",
)
.params(&[
    p(
        "format_firstline",
        Regexp,
        "A line matching it starts an event.",
    ),
    p(
        "format1",
        Regexp,
        "The first part of the regexp (`format2` … `format20` follow).",
    )
    .required(),
    p("format2", Regexp, "Part 2 of the regexp."),
    p("format3", Regexp, "Part 3 of the regexp."),
    p("format4", Regexp, "Part 4 of the regexp."),
    p("format5", Regexp, "Part 5 of the regexp."),
    p("format6", Regexp, "Part 6 of the regexp."),
    p("format7", Regexp, "Part 7 of the regexp."),
    p("format8", Regexp, "Part 8 of the regexp."),
    p("format9", Regexp, "Part 9 of the regexp."),
    p("format10", Regexp, "Part 10 of the regexp."),
    p("format11", Regexp, "Part 11 of the regexp."),
    p("format12", Regexp, "Part 12 of the regexp."),
    p("format13", Regexp, "Part 13 of the regexp."),
    p("format14", Regexp, "Part 14 of the regexp."),
    p("format15", Regexp, "Part 15 of the regexp."),
    p("format16", Regexp, "Part 16 of the regexp."),
    p("format17", Regexp, "Part 17 of the regexp."),
    p("format18", Regexp, "Part 18 of the regexp."),
    p("format19", Regexp, "Part 19 of the regexp."),
    p("format20", Regexp, "Part 20 of the regexp."),
    p(
        "unmatched_lines",
        Bool,
        "Keep lines that match nothing as `unmatched_line` records.",
    ),
    REGEXP_FLAGS[0],
    REGEXP_FLAGS[1],
    time_key(Some("time")),
    time_type("string"),
    time_format(None),
])
.extends(&[&BASE]);

/// `multi_format` (fluent-plugin-multi-format-parser).
pub static MULTI_FORMAT: Spec = Spec::new(
    "multi_format",
    "Tries each `<pattern>` in turn; the first that parses wins.",
)
.sections(&[many(
    "pattern",
    Body::Plugin(PluginKind::Parser, None),
    "A parser (its type in `format`, or `@type`).",
)]);

/// `in_http`: the http input's own reading of JSON and msgpack bodies; only its time field is
/// configurable (not in [`SPECS`]: no other plugin can use it).
pub static IN_HTTP: Spec = Spec::new(
    "in_http",
    "The http input's JSON and msgpack bodies, their time field.",
)
.params(&[
    time_key(Some("time")),
    p("keep_time_key", Bool, "Keep the time field in the record.").default("false"),
    p(
        "time_type",
        Enum(&["string", "unixtime", "float", "mixed"]),
        "How the time field is read (without time_type and time_format: epoch seconds).",
    )
    .default("string"),
    time_format(None),
])
.extends(&[&ZONE]);

/// Fluentd v0.12's flat parser parameters on a plugin without `<parse>`: `format` names the
/// parser (or is `/regexp/`), which reads its own parameters from the plugin section.
pub static FLAT: Spec = Spec::new("v0.12 parse", "v0.12 flat parser parameters.")
    .params(&[p("format", Str, "v0.12: the parser type, or `/regexp/`.")])
    .extends(&[
        &BASE, &JSON, &REGEXP, &SYSLOG, &LTSV, &CSV, &MULTILINE, &NONE,
    ])
    .legacy();

/// Every parser's declaration, by type.
pub const SPECS: &[(&str, &Spec)] = &[
    ("apache", &APACHE),
    ("apache2", &APACHE2),
    ("apache_error", &APACHE_ERROR),
    ("csv", &CSV),
    ("json", &JSON),
    ("ltsv", &LTSV),
    ("multi_format", &MULTI_FORMAT),
    ("multiline", &MULTILINE),
    ("nginx", &APACHE),
    ("msgpack", &MSGPACK),
    ("none", &NONE),
    ("regexp", &REGEXP),
    ("syslog", &SYSLOG),
    ("tsv", &TSV),
];

/// The declaration of parser `ty`.
pub fn spec(ty: &str) -> Option<&'static Spec> {
    SPECS.iter().find(|(n, _)| *n == ty).map(|(_, s)| *s)
}
