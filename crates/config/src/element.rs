//! The configuration tree: positions, parameters and sections.

use std::fmt;
use std::sync::Arc;

/// A position in a configuration file (1-based line and column, columns in characters).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pos {
    /// The file name as given to the parser, or the path as included.
    pub file: Arc<str>,
    /// Line number, starting at 1.
    pub line: u32,
    /// Column number (in characters), starting at 1.
    pub col: u32,
}

impl Pos {
    /// Creates a position.
    pub fn new(file: impl Into<Arc<str>>, line: u32, col: u32) -> Self {
        Pos {
            file: file.into(),
            line,
            col,
        }
    }
}

impl fmt::Display for Pos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.col)
    }
}

/// One `KEY VALUE` parameter of a section.
#[derive(Clone, Debug)]
pub struct Param {
    /// The key, unquoted.
    pub key: String,
    /// The value after unquoting, escapes, interpolation and JSON re-serialisation
    /// (`""` for a key alone on its line).
    pub value: String,
    /// Position of the key.
    pub pos: Pos,
}

/// A section (`<name arg> ... </name>`), or the root (`name == "ROOT"`).
#[derive(Clone, Debug)]
pub struct Element {
    /// Section name, e.g. `match`, `buffer`; `ROOT` for the root.
    pub name: String,
    /// Section argument as written (e.g. `a.** b.**`, `@LABEL`), `""` if absent.
    pub arg: String,
    /// Parameters in first-definition order; a repeated key keeps its place and takes
    /// the last value.
    pub params: Vec<Param>,
    /// Child sections in file order.
    pub elements: Vec<Element>,
    /// Position of the opening `<` (1:1 of the file for the root).
    pub pos: Pos,
}

impl Element {
    /// Creates an empty element.
    pub fn new(name: impl Into<String>, arg: impl Into<String>, pos: Pos) -> Self {
        Element {
            name: name.into(),
            arg: arg.into(),
            params: Vec::new(),
            elements: Vec::new(),
            pos,
        }
    }

    /// The parameter named `key` (the last one if repeated).
    pub fn param(&self, key: &str) -> Option<&Param> {
        self.params.iter().rev().find(|p| p.key == key)
    }

    /// The value of the parameter named `key`.
    pub fn value(&self, key: &str) -> Option<&str> {
        self.param(key).map(|p| p.value.as_str())
    }

    /// Whether a parameter named `key` is present.
    pub fn has_param(&self, key: &str) -> bool {
        self.param(key).is_some()
    }

    /// Child sections named `name`, in file order.
    pub fn elements_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> {
        self.elements.iter().filter(move |e| e.name == name)
    }

    /// The plugin type: `@type`, else the v0.12 `type`.
    pub fn plugin_type(&self) -> Option<&Param> {
        self.param("@type").or_else(|| self.param("type"))
    }

    /// Sets `key` to `value`: replaces the value (and position) of an existing
    /// parameter in place, or appends a new one.
    pub fn set_param(&mut self, key: impl Into<String>, value: impl Into<String>, pos: Pos) {
        let key = key.into();
        let value = value.into();
        match self.params.iter_mut().find(|p| p.key == key) {
            Some(p) => {
                p.value = value;
                p.pos = pos;
            }
            None => self.params.push(Param { key, value, pos }),
        }
    }

    /// Removes every parameter named `key`; returns the last removed one.
    pub fn remove_param(&mut self, key: &str) -> Option<Param> {
        let mut removed = None;
        self.params.retain(|p| {
            if p.key == key {
                removed = Some(p.clone());
                false
            } else {
                true
            }
        });
        removed
    }

    /// Structural equality ignoring positions: same name, arg, parameters (keys and
    /// values, in order) and children.
    pub fn content_eq(&self, other: &Element) -> bool {
        self.name == other.name
            && self.arg == other.arg
            && self.params.len() == other.params.len()
            && self
                .params
                .iter()
                .zip(&other.params)
                .all(|(a, b)| a.key == b.key && a.value == b.value)
            && self.elements.len() == other.elements.len()
            && self
                .elements
                .iter()
                .zip(&other.elements)
                .all(|(a, b)| a.content_eq(b))
    }

    /// Fluentd-syntax text of the tree (for the root, its children only), 2-space
    /// indented, values double-quoted where needed; parsing it gives the same tree.
    pub fn dump(&self) -> String {
        crate::dump::dump(self)
    }
}
