//! Parameters as data: each plugin declares its parameters once, as `'static` tables.
//!
//! A [`Spec`] lists a section's parameters ([`ParamDef`]: name, [`ParamType`], [`DefaultValue`],
//! v0.12 aliases, secret flag, one line of doc) and its sub-sections ([`SubDef`]). The same table
//! drives parsing ([`crate::Section::get`] takes defaults and coercions from it), the
//! unknown-parameter warnings (with a "did you mean" from the declared names), `--dry-run`'s
//! resolved config ([`crate::resolve`]), `logferry plugins`, the JSON schema ([`crate::schema`])
//! and the generated reference ([`crate::reference`], docs/plugins.md), as Fluentd's
//! `config_param` tables do. Parameters are read at build time only: nothing here runs per event.
//!
//! # Declaring a plugin's parameters
//!
//! 1. Next to the plugin's `build`, a `pub static PARAMS: Spec` with every parameter: `p(name,
//!    type, doc)` then `.default("text as written in a config")`, `.required()`,
//!    `.computed("what it is derived from")`, `.aliases(&["v0.12 name"])`, `.secret()`,
//!    `.refused("why")`; sub-sections with `one`/`many(name, Body::Spec(&SUB), doc)` (or
//!    `Body::Plugin(PluginKind::Formatter, Some("json"))` for `<format>`, `<parse>`, `<store>`);
//!    shared groups with `.extends(&[&BUFFERED, &INJECT_V012, &formatter::params::FLAT])`
//!    (mark v0.12 flat groups `.legacy()`).
//! 2. Register it beside the factory: `r.declare(PluginKind::Output, "name", &module::PARAMS)`.
//!    The registry then hands the plugin its section read through the declaration (declared
//!    sub-sections get theirs) and refuses the `.refused` parameters.
//! 3. Read values with `s.get::<T>("name")?`: `bool`, `i64`, `u64`/`usize`/`u32` (sizes and
//!    integers), `f64` (times and floats), `&str`/`String` (enums are checked), `Vec<String>`
//!    (arrays), `Vec<(String, String)>` (hashes), or `Option<T>` for parameters without a
//!    default. No call-site defaults: the declared one applies. Code that may run outside the
//!    registry (unit tests, shared helpers) calls `let s = &s.declared(&PARAMS);` first.
//! 4. A top-level section that is not a plugin (`<system>`) is declared the same way and
//!    returned by [`Declarations::top_sections`]; its reader calls `s.declared(&SPEC)`.
//! 5. Regenerate the reference: `cargo run -p logferry -- plugins --markdown > docs/plugins.md`
//!    (tests/plugin_reference.rs fails until it matches).
//!
//! The old accessors (`s.str`, `s.bool(key, default)`…) keep working; on a declared section,
//! debug builds check their call-site default against the declared one.
//!
//! ```
//! use logferry_config::params::{p, ParamType::*, Spec};
//! static FILE: Spec = Spec::new("file", "Writes events to files.").params(&[
//!     p("path", Str, "Path prefix of the files.").required(),
//!     p("append", Bool, "Append to one file per time slice.").default("false"),
//! ]);
//! assert_eq!(FILE.find("append").unwrap().default.text(), Some("false"));
//! ```

/// The type of a parameter's value, as Fluentd's config types name them.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ParamType {
    /// Any text.
    Str,
    /// A whole number (Ruby `to_i`).
    Integer,
    /// A number (Ruby `to_f`).
    Float,
    /// `true`/`yes`/empty or `false`/`no`.
    Bool,
    /// Bytes with an optional `k`/`m`/`g`/`t` suffix.
    Size,
    /// Seconds with an optional `s`/`m`/`h`/`d` suffix.
    Time,
    /// One of the listed words.
    Enum(&'static [&'static str]),
    /// A JSON array or comma-separated list.
    Array,
    /// A JSON object or `k:v,k2:v2`.
    Hash,
    /// A regular expression, `/body/flags` or bare.
    Regexp,
}

impl ParamType {
    /// The type's name as Fluentd writes it (`string`, `size`, `enum`…).
    pub fn name(&self) -> &'static str {
        match self {
            ParamType::Str => "string",
            ParamType::Integer => "integer",
            ParamType::Float => "float",
            ParamType::Bool => "bool",
            ParamType::Size => "size",
            ParamType::Time => "time",
            ParamType::Enum(_) => "enum",
            ParamType::Array => "array",
            ParamType::Hash => "hash",
            ParamType::Regexp => "regexp",
        }
    }
}

/// A parameter's default.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum DefaultValue {
    /// No default: the value is absent unless given.
    None,
    /// The parameter must be given.
    Required,
    /// This text, read exactly as if it were written in the config.
    Value(&'static str),
    /// Computed at build time (the host name, another parameter…), described here.
    Computed(&'static str),
}

impl DefaultValue {
    /// The default as config text, if it is a fixed value.
    pub fn text(&self) -> Option<&'static str> {
        match self {
            DefaultValue::Value(v) => Some(v),
            _ => None,
        }
    }
}

/// One declared parameter.
#[derive(Clone, Copy, Debug)]
pub struct ParamDef {
    /// The name.
    pub name: &'static str,
    /// The value's type.
    pub ty: ParamType,
    /// The default.
    pub default: DefaultValue,
    /// Other names read as this parameter (Fluentd's v0.12 names, deprecated spellings).
    pub aliases: &'static [&'static str],
    /// Masked wherever a config is shown (Fluentd's `secret: true`).
    pub secret: bool,
    /// Refused at build time with this reason (a Fluentd parameter logferry cannot honour).
    pub refused: Option<&'static str>,
    /// One line of doc.
    pub doc: &'static str,
}

/// Declare a parameter: name, type and one line of doc (no default until one is given).
pub const fn p(name: &'static str, ty: ParamType, doc: &'static str) -> ParamDef {
    ParamDef {
        name,
        ty,
        default: DefaultValue::None,
        aliases: &[],
        secret: false,
        refused: None,
        doc,
    }
}

impl ParamDef {
    /// The default, as config text (`"60s"`, `"8m"`, `"true"`).
    pub const fn default(mut self, text: &'static str) -> Self {
        self.default = DefaultValue::Value(text);
        self
    }

    /// The parameter must be given.
    pub const fn required(mut self) -> Self {
        self.default = DefaultValue::Required;
        self
    }

    /// The default is computed at build time; `how` says from what.
    pub const fn computed(mut self, how: &'static str) -> Self {
        self.default = DefaultValue::Computed(how);
        self
    }

    /// Other names read as this parameter.
    pub const fn aliases(mut self, names: &'static [&'static str]) -> Self {
        self.aliases = names;
        self
    }

    /// A secret: masked in `--dry-run` and wherever a config is shown.
    pub const fn secret(mut self) -> Self {
        self.secret = true;
        self
    }

    /// Refused at build time: logferry cannot honour it, for this reason.
    pub const fn refused(mut self, why: &'static str) -> Self {
        self.refused = Some(why);
        self
    }

    /// Is `key` this parameter's name or one of its aliases?
    pub fn answers_to(&self, key: &str) -> bool {
        self.name == key || self.aliases.contains(&key)
    }
}

/// The kinds of plugins a `@type` names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PluginKind {
    /// `<source>`
    Input,
    /// `<filter>`
    Filter,
    /// `<match>`, `<store>`, `<secondary>`
    Output,
    /// `<parse>`
    Parser,
    /// `<format>`
    Formatter,
}

impl PluginKind {
    /// Every kind, in listing order.
    pub const ALL: [PluginKind; 5] = [
        PluginKind::Input,
        PluginKind::Filter,
        PluginKind::Output,
        PluginKind::Parser,
        PluginKind::Formatter,
    ];

    /// The kind's name (`input`, `filter`, `output`, `parser`, `formatter`).
    pub fn name(&self) -> &'static str {
        match self {
            PluginKind::Input => "input",
            PluginKind::Filter => "filter",
            PluginKind::Output => "output",
            PluginKind::Parser => "parser",
            PluginKind::Formatter => "formatter",
        }
    }
}

/// What a sub-section holds.
#[derive(Clone, Copy, Debug)]
pub enum Body {
    /// A fixed set of parameters (`<buffer>`, `<inject>`, `<security>`…).
    Spec(&'static Spec),
    /// A plugin of this kind chosen by its `@type` (`<format>`, `<parse>`, `<store>`), this
    /// type when none is given (`None`: `@type` is required).
    Plugin(PluginKind, Option<&'static str>),
}

/// One declared sub-section.
#[derive(Clone, Copy, Debug)]
pub struct SubDef {
    /// The section name (`buffer`, `format`, `server`…).
    pub name: &'static str,
    /// May appear more than once.
    pub multi: bool,
    /// What it holds.
    pub body: Body,
    /// One line of doc.
    pub doc: &'static str,
}

/// Declare a sub-section that appears at most once.
pub const fn one(name: &'static str, body: Body, doc: &'static str) -> SubDef {
    SubDef {
        name,
        multi: false,
        body,
        doc,
    }
}

/// Declare a sub-section that may appear more than once.
pub const fn many(name: &'static str, body: Body, doc: &'static str) -> SubDef {
    SubDef {
        name,
        multi: true,
        body,
        doc,
    }
}

/// A section's declaration: a plugin's, or a fixed sub-section's (`<buffer>`, `<server>`).
#[derive(Debug)]
pub struct Spec {
    /// The plugin type or section name.
    pub name: &'static str,
    /// One line (or a short paragraph) of doc.
    pub doc: &'static str,
    /// Its own parameters.
    pub params: &'static [ParamDef],
    /// Its sub-sections.
    pub sections: &'static [SubDef],
    /// Shared parameter groups it also takes, flat (TLS settings, v0.12 flat formatter keys…).
    pub extends: &'static [&'static Spec],
    /// Takes any parameter besides the declared ones (`<record>`: field → value).
    pub open: bool,
    /// Fluentd v0.12's flat forms: accepted, but left out of `--dry-run`'s defaults and listed
    /// apart in the reference.
    pub legacy: bool,
}

impl Spec {
    /// A declaration with no parameters yet.
    pub const fn new(name: &'static str, doc: &'static str) -> Self {
        Spec {
            name,
            doc,
            params: &[],
            sections: &[],
            extends: &[],
            open: false,
            legacy: false,
        }
    }

    /// Takes any parameter besides the declared ones.
    pub const fn open(mut self) -> Self {
        self.open = true;
        self
    }

    /// Fluentd v0.12's flat forms (see [`Spec::legacy`]).
    pub const fn legacy(mut self) -> Self {
        self.legacy = true;
        self
    }

    /// Its parameters.
    pub const fn params(mut self, params: &'static [ParamDef]) -> Self {
        self.params = params;
        self
    }

    /// Its sub-sections.
    pub const fn sections(mut self, sections: &'static [SubDef]) -> Self {
        self.sections = sections;
        self
    }

    /// Shared parameter groups it takes flat.
    pub const fn extends(mut self, groups: &'static [&'static Spec]) -> Self {
        self.extends = groups;
        self
    }

    /// The declared parameter `key` answers to (its own first, then the groups').
    pub fn find(&self, key: &str) -> Option<&'static ParamDef> {
        let own: &'static [ParamDef] = self.params;
        own.iter()
            .find(|d| d.answers_to(key))
            .or_else(|| self.extends.iter().find_map(|g| g.find(key)))
    }

    /// The declared sub-section `name`.
    pub fn section(&self, name: &str) -> Option<&'static SubDef> {
        let own: &'static [SubDef] = self.sections;
        own.iter()
            .find(|d| d.name == name)
            .or_else(|| self.extends.iter().find_map(|g| g.section(name)))
    }

    /// Every parameter, own then the groups', each once.
    pub fn all_params(&self) -> Vec<&'static ParamDef> {
        let (mut out, legacy) = self.current_and_legacy();
        out.extend(legacy);
        out
    }

    /// Every parameter split into the current ones and the v0.12 flat ones of legacy groups.
    pub fn current_and_legacy(&self) -> (Vec<&'static ParamDef>, Vec<&'static ParamDef>) {
        let mut all: Vec<(&'static ParamDef, bool)> = Vec::new();
        self.collect(&mut all, &mut Vec::new(), self.legacy);
        let current = all.iter().filter(|(_, l)| !l).map(|(d, _)| *d).collect();
        let legacy = all.iter().filter(|(_, l)| *l).map(|(d, _)| *d).collect();
        (current, legacy)
    }

    /// Does it, or a group it extends, take any parameter?
    pub fn is_open(&self) -> bool {
        self.open || self.extends.iter().any(|g| g.is_open())
    }

    /// Every sub-section, own then the groups'.
    pub fn all_sections(&self) -> Vec<&'static SubDef> {
        let own: &'static [SubDef] = self.sections;
        let mut out: Vec<&'static SubDef> = own.iter().collect();
        for g in self.extends {
            for s in g.all_sections() {
                if !out.iter().any(|o| o.name == s.name) {
                    out.push(s);
                }
            }
        }
        out
    }

    fn collect(
        &self,
        out: &mut Vec<(&'static ParamDef, bool)>,
        seen: &mut Vec<*const Spec>,
        legacy: bool,
    ) {
        if seen.contains(&(self as *const Spec)) {
            return;
        }
        seen.push(self);
        let own: &'static [ParamDef] = self.params;
        for d in own {
            if !out.iter().any(|(o, _)| o.name == d.name) {
                out.push((d, legacy));
            }
        }
        for g in self.extends {
            g.collect(out, seen, legacy || g.legacy);
        }
    }

    /// Add the fixed sub-section declarations (`<buffer>`, `<server>`…) reachable from this one
    /// to `out`, each once.
    pub fn fixed_sections(&self, out: &mut Vec<&'static Spec>) {
        for s in self.all_sections() {
            if let Body::Spec(sub) = s.body {
                if !out.iter().any(|o| std::ptr::eq(*o, sub)) {
                    out.push(sub);
                    sub.fixed_sections(out);
                }
            }
        }
    }

    /// The declared name closest to `key` (for "did you mean"), if one is close.
    pub fn suggest(&self, key: &str) -> Option<&'static str> {
        let names = self
            .all_params()
            .into_iter()
            .flat_map(|d| std::iter::once(d.name).chain(d.aliases.iter().copied()));
        names
            .map(|n| (distance(key, n), n))
            .filter(|(d, n)| *d <= 2.max(n.len() / 4))
            .min_by_key(|(d, _)| *d)
            .map(|(_, n)| n)
    }
}

/// Levenshtein distance over bytes (names are ASCII).
fn distance(a: &str, b: &str) -> usize {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != cb);
            cur.push(sub.min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

/// A plugin's declaration as the registry carries it.
#[derive(Clone, Copy, Debug)]
pub struct PluginDecl {
    /// Its kind.
    pub kind: PluginKind,
    /// Its `@type` name.
    pub name: &'static str,
    /// Its declaration (`None`: registered but not declared yet).
    pub spec: Option<&'static Spec>,
}

/// Finds a plugin's declaration by kind and `@type`.
pub trait Declarations {
    /// The declaration of `name` of `kind`, if registered and declared.
    fn spec(&self, kind: PluginKind, name: &str) -> Option<&'static Spec>;
    /// Every registered plugin, by kind then name.
    fn plugins(&self) -> Vec<PluginDecl>;
    /// The declared top-level sections that are not plugins (`<system>`), each named by its
    /// spec's name: listed, documented and validated like a plugin's parameters.
    fn top_sections(&self) -> Vec<&'static Spec> {
        Vec::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ParamType::*;

    static TLS: Spec = Spec::new("tls", "TLS").params(&[p("tls_cert_path", Str, "cert")]);
    static X: Spec = Spec::new("x", "X")
        .params(&[
            p("flush_interval", Time, "f").default("60s"),
            p("chunk_limit_size", Size, "c").aliases(&["buffer_chunk_limit"]),
        ])
        .extends(&[&TLS]);

    #[test]
    fn find_aliases_groups_and_suggestions() {
        assert_eq!(
            X.find("buffer_chunk_limit").unwrap().name,
            "chunk_limit_size"
        );
        assert_eq!(X.find("tls_cert_path").unwrap().doc, "cert");
        assert!(X.find("nope").is_none());
        assert_eq!(X.all_params().len(), 3);
        assert_eq!(X.suggest("flush_intreval"), Some("flush_interval"));
        assert_eq!(X.suggest("zzz"), None);
    }
}
