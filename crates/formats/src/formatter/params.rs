//! The declared parameters of every formatter (`<format>`, or v0.12 flat on the plugin).

use logferry_config::params::{p, ParamType::*, Spec};

/// `newline`, which every formatter reads.
static NEWLINE: Spec = Spec::new("newline", "Line ending.").params(&[p(
    "newline",
    Enum(&["lf", "crlf"]),
    "Line ending written after each event.",
)
.default("lf")]);

/// `newline` and `add_newline`, of the line formatters.
static LINES: Spec = Spec::new("lines", "Line settings.")
    .params(&[p("add_newline", Bool, "End each event with a newline.").default("true")])
    .extends(&[&NEWLINE]);

/// The time settings of formatters that write the event time.
static TIME: Spec = Spec::new("time", "Time settings.").params(&[
    p(
        "time_type",
        Enum(&["string", "unixtime", "float", "mixed"]),
        "How the time is written: `string` (time_format), `unixtime` (seconds), `float` \
         (seconds.nanoseconds); `mixed` is written as `float` and needs a time_format, as in Fluentd.",
    )
    .default("string"),
    p(
        "time_format",
        Str,
        "strftime format of the time (default ISO 8601 seconds).",
    ),
    p("utc", Bool, "Write the time in UTC.").default("false"),
    p("localtime", Bool, "Write the time in local time.").default("true"),
    p(
        "timezone",
        Str,
        "Zone of the time (`+09:00`, `Asia/Tokyo`).",
    ),
]);

/// `json`.
pub static JSON: Spec = Spec::new("json", "The record as one JSON object a line.")
    .params(&[p(
        "json_parser",
        Str,
        "`oj`: the JSON as Oj writes it (Fluentd's default, as its images ship it); any other \
         value (`yajl`, `json`): as yajl writes it (Fluentd's formatter uses yajl for all but `oj`).",
    )
    .default("oj")])
    .extends(&[&LINES]);

/// `ltsv`.
pub static LTSV: Spec = Spec::new("ltsv", "The record as labelled tab-separated values.")
    .params(&[
        p("delimiter", Str, "Between fields.").default("\t"),
        p("label_delimiter", Str, "Between a label and its value.").default(":"),
        p("replacement", Str, "Replaces delimiters found in values.").default(" "),
    ])
    .extends(&[&LINES]);

/// `csv`.
pub static CSV: Spec = Spec::new("csv", "The listed fields as one CSV line.")
    .params(&[
        p("fields", Array, "The record keys to write, in order.").required(),
        p(
            "delimiter",
            Str,
            "Between fields, one or more characters (`\\t` or `TAB` for a tab).",
        )
        .default(","),
        p("force_quotes", Bool, "Quote every field.").default("true"),
    ])
    .extends(&[&LINES]);

/// `tsv`.
pub static TSV: Spec = Spec::new("tsv", "The listed fields separated by tabs.")
    .params(&[
        p("keys", Array, "The record keys to write, in order.").required(),
        p("delimiter", Str, "Between fields.").default("\t"),
    ])
    .extends(&[&LINES]);

/// `single_value`.
pub static SINGLE_VALUE: Spec = Spec::new("single_value", "One field's value as the line.")
    .params(&[p("message_key", Str, "The field to write.").default("message")])
    .extends(&[&LINES]);

/// `hash`.
pub static HASH: Spec =
    Spec::new("hash", "The record as Ruby's Hash#to_s writes it.").extends(&[&LINES]);

/// `msgpack`.
pub static MSGPACK: Spec =
    Spec::new("msgpack", "The record as msgpack bytes, no separator.").extends(&[&NEWLINE]);

/// `out_file`.
pub static OUT_FILE: Spec = Spec::new(
    "out_file",
    "Time, tag and the record as JSON, separated by tabs (out_file's default).",
)
.params(&[
    p(
        "delimiter",
        Str,
        "Between time, tag and record: `SPACE`, `COMMA`, else a tab.",
    )
    .default("TAB"),
    p("output_time", Bool, "Write the time.").default("true"),
    p("output_tag", Bool, "Write the tag.").default("true"),
])
.extends(&[&TIME, &NEWLINE]);

/// `stdout`.
pub static STDOUT: Spec = Spec::new(
    "stdout",
    "Time, tag and the record formatted by output_type (filter_stdout's and out_stdout's).",
)
.params(&[
    p("output_type", Str, "The formatter of the record part.").default("json"),
    p("time_format", Str, "strftime format of the time.").default("%Y-%m-%d %H:%M:%S.%N %z"),
])
.extends(&[&TIME, &NEWLINE]);

/// Fluentd v0.12's flat formatter parameters on a plugin without `<format>`: `format` names the
/// formatter, which reads its own parameters from the plugin section.
pub static FLAT: Spec = Spec::new("v0.12 format", "v0.12 flat formatter parameters.")
    .params(&[p("format", Str, "v0.12: the formatter type.")])
    .extends(&[&OUT_FILE, &JSON, &LTSV, &CSV, &TSV, &SINGLE_VALUE, &STDOUT])
    .legacy();

/// Every formatter's declaration, by type.
pub const SPECS: &[(&str, &Spec)] = &[
    ("csv", &CSV),
    ("hash", &HASH),
    ("json", &JSON),
    ("ltsv", &LTSV),
    ("msgpack", &MSGPACK),
    ("out_file", &OUT_FILE),
    ("single_value", &SINGLE_VALUE),
    ("stdout", &STDOUT),
    ("tsv", &TSV),
];

/// The declaration of formatter `ty`.
pub fn spec(ty: &str) -> Option<&'static Spec> {
    SPECS.iter().find(|(n, _)| *n == ty).map(|(_, s)| *s)
}
