//! The resolved config `--dry-run` prints: every plugin section read through its declaration,
//! secrets masked, and each declared default that the config does not set shown as a comment.

use std::collections::HashMap;

use crate::params::{Body, Declarations, PluginKind, Spec};
use crate::{dump, section, Element};

/// What a masked secret is shown as.
pub const MASK: &str = "xxxxxx";

/// The spec of each element of a tree, by address.
type Specs = HashMap<usize, &'static Spec>;

fn addr(el: &Element) -> usize {
    el as *const Element as usize
}

fn plugin_type(el: &Element) -> Option<&str> {
    el.value("@type").or_else(|| el.value("type"))
}

/// The kind of plugin a section holds when no declaration says (top level, `<store>`…).
fn generic_kind(name: &str) -> Option<(PluginKind, Option<&'static str>)> {
    Some(match name {
        "source" => (PluginKind::Input, None),
        "filter" => (PluginKind::Filter, None),
        "match" | "store" | "secondary" => (PluginKind::Output, None),
        "parse" => (PluginKind::Parser, None),
        "format" => (PluginKind::Formatter, None),
        _ => return None,
    })
}

/// Find the declaration of every element under `el` (whose own is `spec`).
fn walk(el: &Element, spec: Option<&'static Spec>, decls: &dyn Declarations, out: &mut Specs) {
    if let Some(spec) = spec {
        out.insert(addr(el), spec);
    }
    for child in &el.elements {
        let body = match spec.and_then(|s| s.section(&child.name)) {
            Some(d) => Some(d.body),
            None if spec.is_none() => generic_kind(&child.name)
                .map(|(k, d)| Body::Plugin(k, d))
                .or_else(|| {
                    let top = decls.top_sections().into_iter();
                    top.filter(|s| s.name == child.name).map(Body::Spec).next()
                }),
            None => generic_kind(&child.name).map(|(k, d)| Body::Plugin(k, d)),
        };
        let child_spec = match body {
            Some(Body::Spec(s)) => Some(s),
            Some(Body::Plugin(kind, default)) => plugin_type(child)
                .or(default)
                .and_then(|ty| decls.spec(kind, ty)),
            None => None,
        };
        walk(child, child_spec, decls, out);
    }
}

/// Every element's declaration, from the root down (labels and workers are walked through).
fn specs_of(root: &Element, decls: &dyn Declarations) -> Specs {
    let mut out = Specs::new();
    walk(root, None, decls, &mut out);
    out
}

/// Mask declared secrets and, for undeclared plugins, parameters whose name says secret.
fn mask(el: &mut Element, specs: &Specs) {
    let spec = specs.get(&addr(el)).copied();
    for p in &mut el.params {
        let declared = spec.and_then(|s| s.find(&p.key)).is_some_and(|d| d.secret);
        if declared || section::is_secret(&p.key) {
            p.value = MASK.to_string();
        }
    }
    for c in &mut el.elements {
        mask(c, specs);
    }
}

/// A copy of the tree with every secret masked (declared `secret`, or named like one).
pub fn masked(root: &Element, decls: &dyn Declarations) -> Element {
    // Specs are found on the original tree, then mapped onto the copy by walking both.
    let specs = specs_of(root, decls);
    let mut copy = root.clone();
    let mut mapped = Specs::new();
    map_specs(root, &copy, &specs, &mut mapped);
    mask(&mut copy, &mapped);
    copy
}

fn map_specs(orig: &Element, copy: &Element, specs: &Specs, out: &mut Specs) {
    if let Some(s) = specs.get(&addr(orig)) {
        out.insert(addr(copy), s);
    }
    for (o, c) in orig.elements.iter().zip(&copy.elements) {
        map_specs(o, c, specs, out);
    }
}

/// The resolved config: masked, with each declared default the config leaves unset written as
/// a `# default: KEY VALUE` comment in its section.
pub fn resolved(root: &Element, decls: &dyn Declarations) -> String {
    let copy = masked(root, decls);
    let specs = specs_of(&copy, decls);
    let notes = |el: &Element| -> Vec<String> {
        let Some(spec) = specs.get(&addr(el)) else {
            return Vec::new();
        };
        spec.current_and_legacy()
            .0
            .into_iter()
            .filter(|d| d.refused.is_none())
            .filter(|d| !el.params.iter().any(|p| d.answers_to(&p.key)))
            .filter_map(|d| {
                let text = d.default.text()?;
                let value = if d.secret {
                    MASK.to_string()
                } else {
                    dump::format_value(text)
                };
                Some(format!("default: {} {value}", d.name))
            })
            .collect()
    };
    dump::dump_with(&copy, &notes)
}
