//! Typed access to a config section, recording what a plugin read.
//!
//! Every parameter and sub-section a plugin reads is marked as used; [`Section::warn_unused`] then
//! warns about each one nobody read, naming the plugin and the parameter, as Fluentd does
//! ("parameter 'x' in <match **> is not used"). Reserved `@`-keys are always considered used.

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::rc::Rc;

use crate::error::{build_error, BuildError};
use crate::params::{self, Body, ParamDef, Spec};
use crate::typed::FromParam;
use crate::{types, Element, Param, Pos};

/// Words that mark a parameter's value as a secret (Fluentd's `secret: true` parameters:
/// `shared_key`, `password`, `aws_key_id`, `aws_sec_key`, `ssekms_key_id`, `sse_customer_key`,
/// `external_id`, tokens, passphrases).
const SECRET_WORDS: &[&str] = &[
    "password",
    "shared_key",
    "secret",
    "sec_key",
    "key_id",
    "customer_key",
    "external_id",
    "passphrase",
    "token",
];

/// Is the value of this parameter a secret, to be masked wherever a config is shown?
pub fn is_secret(key: &str) -> bool {
    SECRET_WORDS.iter().any(|w| key.contains(w))
}

/// Keys every section may carry without a plugin reading them.
pub(crate) const RESERVED: &[&str] = &[
    "@type",
    "type",
    "@id",
    "id",
    "@label",
    "@log_level",
    "log_level",
];

#[derive(Default)]
struct Usage {
    params: HashSet<usize>,
    elements: HashSet<usize>,
    /// The declaration each element was read through.
    specs: HashMap<usize, &'static Spec>,
}

/// A config element seen through the eyes of one plugin.
#[derive(Clone)]
pub struct Section<'a> {
    el: &'a Element,
    plugin: Rc<str>,
    usage: Rc<RefCell<Usage>>,
    spec: Option<&'static Spec>,
}

fn addr<T>(x: &T) -> usize {
    x as *const T as usize
}

impl<'a> Section<'a> {
    /// Start tracking a top-level element for the plugin `plugin` (e.g. `"file"`).
    pub fn new(el: &'a Element, plugin: &str) -> Self {
        let s = Section {
            el,
            plugin: plugin.into(),
            usage: Rc::new(RefCell::new(Usage::default())),
            spec: None,
        };
        s.usage.borrow_mut().elements.insert(addr(el));
        s
    }

    /// The same section read through its declaration: [`Section::get`] takes types and defaults
    /// from it, declared sub-sections get theirs, and unknown parameters get a "did you mean"
    /// (from the first declaration the element was read through: the plugin's).
    pub fn declared(&self, spec: &'static Spec) -> Section<'a> {
        self.usage
            .borrow_mut()
            .specs
            .entry(addr(self.el))
            .or_insert(spec);
        Section {
            spec: Some(spec),
            ..self.clone()
        }
    }

    /// The declaration this section is read through, if any.
    pub fn spec(&self) -> Option<&'static Spec> {
        self.spec
    }

    /// The declaration of `key`: an error (and a panic in debug builds) if it is not declared.
    fn def(&self, key: &str) -> Result<&'static ParamDef, BuildError> {
        let def = self.spec.and_then(|s| s.find(key));
        debug_assert!(
            def.is_some(),
            "the {} plugin reads '{key}' without declaring it",
            self.plugin
        );
        def.ok_or_else(|| {
            build_error(
                self.pos(),
                format!(
                    "internal error: the {} plugin reads '{key}' without declaring it",
                    self.plugin
                ),
            )
        })
    }

    /// A declared parameter as `T`, coerced as its declared type says, its declared default
    /// when absent (an `Option<T>` is `None` when absent without default; a required one is an
    /// error naming it). Its aliases are read too; the name itself wins over an alias.
    pub fn get<T: FromParam<'a>>(&self, key: &str) -> Result<T, BuildError> {
        let def = self.def(key)?;
        let given = std::iter::once(def.name)
            .chain(def.aliases.iter().copied())
            .find_map(|k| self.param(k));
        for k in def.aliases {
            self.mark(k);
        }
        if let Some(p) = given {
            return T::from_text(def, &p.value, &p.pos);
        }
        match def.default {
            params::DefaultValue::Value(text) => T::from_text(def, text, self.pos()),
            params::DefaultValue::Required => T::absent().ok_or_else(|| {
                build_error(
                    self.pos(),
                    format!(
                        "'{key}' parameter is required by the {} plugin",
                        self.plugin
                    ),
                )
            }),
            _ => T::absent().ok_or_else(|| {
                build_error(
                    self.pos(),
                    format!("internal error: '{key}' has no default; read it as an Option"),
                )
            }),
        }
    }

    /// Refuse every declared parameter that is given but marked refused, with its reason.
    pub fn refuse_declared(&self) -> Result<(), BuildError> {
        let Some(spec) = self.spec else {
            return Ok(());
        };
        for def in spec.all_params() {
            if let Some(why) = def.refused {
                self.refuse(def.name, why)?;
            }
        }
        Ok(())
    }

    /// In debug builds, check that an old accessor's call-site default equals the declared one.
    fn check_default<T: PartialEq + std::fmt::Debug>(
        &self,
        key: &str,
        given: &T,
        parse: impl Fn(&'static str) -> Option<T>,
    ) {
        if !cfg!(debug_assertions) {
            return;
        }
        if let Some(text) = self
            .spec
            .and_then(|s| s.find(key))
            .and_then(|d| d.default.text())
        {
            let declared = parse(text);
            assert!(
                declared.as_ref() == Some(given),
                "the {} plugin's '{key}' is declared with default {text:?} but read with {given:?}",
                self.plugin
            );
        }
    }

    /// The plugin name used in messages.
    pub fn plugin(&self) -> &str {
        &self.plugin
    }

    /// The underlying element.
    pub fn element(&self) -> &'a Element {
        self.el
    }

    /// Where the section starts.
    pub fn pos(&self) -> &'a Pos {
        &self.el.pos
    }

    /// The section argument (`<match ARG>`).
    pub fn arg(&self) -> &'a str {
        &self.el.arg
    }

    /// A parameter, marked as used.
    pub fn param(&self, key: &str) -> Option<&'a Param> {
        let p = self.el.params.iter().rev().find(|p| p.key == key)?;
        self.usage.borrow_mut().params.insert(addr(p));
        Some(p)
    }

    /// Mark every parameter with this key as used without reading it.
    fn mark(&self, key: &str) {
        let mut u = self.usage.borrow_mut();
        for p in self.el.params.iter().filter(|p| p.key == key) {
            u.params.insert(addr(p));
        }
    }

    /// A string parameter.
    pub fn str(&self, key: &str) -> Option<&'a str> {
        self.mark(key);
        self.param(key).map(|p| p.value.as_str())
    }

    /// Is the parameter present?
    pub fn has(&self, key: &str) -> bool {
        self.el.params.iter().any(|p| p.key == key)
    }

    /// A string parameter with a default.
    pub fn string(&self, key: &str, default: &str) -> String {
        self.check_default(key, &default.to_string(), |t| Some(t.to_string()));
        self.str(key).unwrap_or(default).to_string()
    }

    /// A required string parameter.
    pub fn required(&self, key: &str) -> Result<&'a str, BuildError> {
        self.str(key).ok_or_else(|| {
            build_error(
                self.pos(),
                format!(
                    "'{key}' parameter is required by the {} plugin",
                    self.plugin
                ),
            )
        })
    }

    /// A string parameter that must not be empty when given.
    pub fn non_empty(&self, key: &str) -> Result<Option<&'a str>, BuildError> {
        match self.param(key) {
            Some(p) if p.value.is_empty() => {
                Err(build_error(&p.pos, format!("'{key}' must not be empty")))
            }
            Some(p) => Ok(Some(p.value.as_str())),
            None => Ok(None),
        }
    }

    /// A bool parameter (`true`/`yes`/empty, `false`/`no`); anything else is an error.
    pub fn bool(&self, key: &str, default: bool) -> Result<bool, BuildError> {
        self.check_default(key, &default, types::bool);
        self.mark(key);
        match self.param(key) {
            None => Ok(default),
            Some(p) => types::bool(&p.value).ok_or_else(|| {
                build_error(
                    &p.pos,
                    format!("'{key}': expected true or false, got '{}'", p.value),
                )
            }),
        }
    }

    /// A size parameter (`k`/`m`/`g`/`t` suffixes).
    pub fn size(&self, key: &str, default: u64) -> u64 {
        self.check_default(key, &default, |t| Some(types::size(t)));
        self.mark(key);
        self.param(key)
            .map(|p| types::size(&p.value))
            .unwrap_or(default)
    }

    /// An optional size parameter.
    pub fn opt_size(&self, key: &str) -> Option<u64> {
        self.mark(key);
        self.param(key).map(|p| types::size(&p.value))
    }

    /// A time parameter in seconds (`s`/`m`/`h`/`d` suffixes).
    pub fn time(&self, key: &str, default: f64) -> f64 {
        self.check_default(key, &default, |t| Some(types::time(t)));
        self.mark(key);
        self.param(key)
            .map(|p| types::time(&p.value))
            .unwrap_or(default)
    }

    /// An integer parameter.
    pub fn integer(&self, key: &str, default: i64) -> i64 {
        self.check_default(key, &default, |t| Some(types::integer(t)));
        self.mark(key);
        self.param(key)
            .map(|p| types::integer(&p.value))
            .unwrap_or(default)
    }

    /// A float parameter.
    pub fn float(&self, key: &str, default: f64) -> f64 {
        self.check_default(key, &default, |t| Some(types::float(t)));
        self.mark(key);
        self.param(key)
            .map(|p| types::float(&p.value))
            .unwrap_or(default)
    }

    /// An array parameter (JSON or comma-separated); text that starts with `[` but is not a
    /// JSON array is an error, as in Fluentd.
    pub fn array(&self, key: &str) -> Result<Option<Vec<String>>, BuildError> {
        self.mark(key);
        self.param(key)
            .map(|p| {
                types::array(&p.value).map_err(|e| build_error(&p.pos, format!("'{key}': {e}")))
            })
            .transpose()
    }

    /// A hash parameter (JSON or `k:v,k2:v2`); the texts Fluentd fails on are errors (see
    /// [`types::hash`]).
    pub fn hash(&self, key: &str) -> Result<Option<Vec<(String, String)>>, BuildError> {
        self.mark(key);
        self.param(key)
            .map(|p| {
                types::hash(&p.value).map_err(|e| build_error(&p.pos, format!("'{key}': {e}")))
            })
            .transpose()
    }

    /// An enum parameter: the value must be one of `allowed`.
    pub fn choice(&self, key: &str, allowed: &[&str], default: &str) -> Result<String, BuildError> {
        self.check_default(key, &default.to_string(), |t| Some(t.to_string()));
        self.mark(key);
        match self.param(key) {
            None => Ok(default.to_string()),
            Some(p) if allowed.contains(&p.value.as_str()) => Ok(p.value.clone()),
            Some(p) => Err(build_error(
                &p.pos,
                format!(
                    "'{key}': '{}' is not one of: {}",
                    p.value,
                    allowed.join(", ")
                ),
            )),
        }
    }

    /// Refuse a parameter this implementation does not support, with the reason.
    pub fn refuse(&self, key: &str, why: &str) -> Result<(), BuildError> {
        match self.param(key) {
            Some(p) => Err(build_error(
                &p.pos,
                format!(
                    "'{key}' is not supported by logferry's {} plugin: {why}",
                    self.plugin
                ),
            )),
            None => Ok(()),
        }
    }

    /// All sub-sections with this name, marked as used.
    /// A declared sub-section of a fixed body (`<buffer>`, `<server>`) is read through its
    /// declaration; one holding a plugin (`<format>`) gets the plugin's when that is built.
    pub fn sections(&self, name: &str) -> Vec<Section<'a>> {
        let spec = match self.spec.and_then(|s| s.section(name)).map(|d| d.body) {
            Some(Body::Spec(spec)) => Some(spec),
            _ => None,
        };
        let mut u = self.usage.borrow_mut();
        self.el
            .elements
            .iter()
            .filter(|e| e.name == name)
            .map(|e| {
                u.elements.insert(addr(e));
                if let Some(spec) = spec {
                    u.specs.insert(addr(e), spec);
                }
                Section {
                    el: e,
                    plugin: self.plugin.clone(),
                    usage: self.usage.clone(),
                    spec,
                }
            })
            .collect()
    }

    /// At most one sub-section with this name (two or more is an error).
    pub fn section(&self, name: &str) -> Result<Option<Section<'a>>, BuildError> {
        let mut v = self.sections(name);
        if v.len() > 1 {
            return Err(build_error(
                v[1].pos(),
                format!("only one <{name}> section is allowed here"),
            ));
        }
        Ok(v.pop())
    }

    /// Refuse a sub-section this implementation does not support, with the reason.
    pub fn refuse_section(&self, name: &str, why: &str) -> Result<(), BuildError> {
        match self.el.elements.iter().find(|e| e.name == name) {
            Some(e) => Err(build_error(
                &e.pos,
                format!(
                    "<{name}> is not supported by logferry's {} plugin: {why}",
                    self.plugin
                ),
            )),
            None => Ok(()),
        }
    }

    /// Warn (via tracing) about every parameter and section of this element tree nobody read.
    /// Returns the warnings, for tests and `--dry-run`.
    pub fn warn_unused(&self) -> Vec<String> {
        let mut out = Vec::new();
        self.collect_unused(self.el, &mut out);
        for w in &out {
            tracing::warn!("{w}");
        }
        out
    }

    fn collect_unused(&self, el: &Element, out: &mut Vec<String>) {
        let u = self.usage.borrow();
        let place = if el.arg.is_empty() {
            format!("<{}>", el.name)
        } else {
            format!("<{} {}>", el.name, el.arg)
        };
        for p in &el.params {
            if RESERVED.contains(&p.key.as_str()) || u.params.contains(&addr(p)) {
                continue;
            }
            let hint = u
                .specs
                .get(&addr(el))
                .filter(|spec| spec.find(&p.key).is_none())
                .and_then(|spec| spec.suggest(&p.key))
                .map(|n| format!(" (did you mean '{n}'?)"))
                .unwrap_or_default();
            out.push(format!(
                "{}: parameter '{}' in {place} is not used by the {} plugin{hint}",
                p.pos, p.key, self.plugin
            ));
        }
        let children: Vec<&Element> = el.elements.iter().collect();
        drop(u);
        for child in children {
            if self.usage.borrow().elements.contains(&addr(child)) {
                self.collect_unused(child, out);
            } else {
                out.push(format!(
                    "{}: section <{}> in {place} is not used by the {} plugin",
                    child.pos, child.name, self.plugin
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn typed_access_and_unused_warnings() {
        let root = crate::parse_str(
            "<match **>\n  @type file\n  path /tmp/x\n  append yes\n  bogus 1\n  flush_interval 10s\n  <format>\n    @type json\n    extra 1\n  </format>\n  <inject>\n  </inject>\n</match>\n",
            "t.conf",
            Path::new("."),
        )
        .unwrap();
        let m = &root.elements[0];
        let s = Section::new(m, "file");
        assert_eq!(s.required("path").unwrap(), "/tmp/x");
        assert!(s.bool("append", false).unwrap());
        assert_eq!(s.time("flush_interval", 60.0), 10.0);
        let f = s.section("format").unwrap().unwrap();
        assert_eq!(f.str("@type"), Some("json"));
        assert!(s.required("nope").is_err());
        let w = s.warn_unused();
        assert_eq!(w.len(), 3, "{w:?}");
        assert!(
            w[0].contains("parameter 'bogus'") && w[0].contains("t.conf:5:"),
            "{w:?}"
        );
        assert!(w.iter().any(|x| x.contains("section <inject>")));
        assert!(w.iter().any(|x| x.contains("parameter 'extra'")));
    }

    #[test]
    fn bad_bool_and_choice_are_errors() {
        let root = crate::parse_str(
            "<source>\n  a maybe\n  b purple\n</source>\n",
            "t.conf",
            Path::new("."),
        )
        .unwrap();
        let s = Section::new(&root.elements[0], "x");
        let e = s.bool("a", false).unwrap_err();
        assert!(e.to_string().starts_with("t.conf:2:"), "{e}");
        let e = s.choice("b", &["red", "green"], "red").unwrap_err();
        assert!(e.to_string().contains("red, green"), "{e}");
    }
}
