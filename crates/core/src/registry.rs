//! Plugin factories by `@type` name.

use std::collections::BTreeMap;
use std::sync::Arc;

use logferry_config::params::{Declarations, PluginDecl, PluginKind, Spec};

use crate::buffer::build::{build_buffered, WriterFactory};
use crate::buffer::BufferDefaults;
use crate::error::{build_error, BuildError};
use crate::pipeline::BuildCtx;
use crate::plugin::{Filter, Input, Output};
use crate::section::Section;

/// Builds an input from its section.
pub type InputFactory = fn(&BuildCtx, &Section) -> Result<Arc<dyn Input>, BuildError>;
/// Builds a filter from its section.
pub type FilterFactory = fn(&BuildCtx, &Section) -> Result<Arc<dyn Filter>, BuildError>;
/// Builds an output from its section.
pub type OutputFactory = fn(&BuildCtx, &Section) -> Result<Arc<dyn Output>, BuildError>;

/// The plugins the daemon knows, by Fluentd type name.
#[derive(Default)]
pub struct Registry {
    inputs: BTreeMap<&'static str, InputFactory>,
    filters: BTreeMap<&'static str, FilterFactory>,
    outputs: BTreeMap<&'static str, OutputFactory>,
    buffered: BTreeMap<&'static str, (WriterFactory, BufferDefaults)>,
    writers: BTreeMap<&'static str, WriterFactory>,
    specs: BTreeMap<(PluginKind, &'static str), &'static Spec>,
}

/// The kind of plugin a section declares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `<source>`
    Input,
    /// `<filter>`
    Filter,
    /// `<match>`, `<store>`, `<secondary>`
    Output,
}

impl Registry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// Register an input type.
    pub fn add_input(&mut self, name: &'static str, f: InputFactory) {
        self.inputs.insert(name, f);
    }

    /// Register a filter type.
    pub fn add_filter(&mut self, name: &'static str, f: FilterFactory) {
        self.filters.insert(name, f);
    }

    /// Register an output type.
    pub fn add_output(&mut self, name: &'static str, f: OutputFactory) {
        self.outputs.insert(name, f);
    }

    /// Register a buffered output type: its chunk writer and buffer defaults. It is usable as a
    /// `<match>` output and as a `<secondary>`.
    pub fn add_buffered(&mut self, name: &'static str, f: WriterFactory, defaults: BufferDefaults) {
        self.buffered.insert(name, (f, defaults));
    }

    /// Register a type that can take chunks as a `<secondary>` (outputs that buffer only with a
    /// `<buffer>` section register themselves with [`Registry::add_output`] and this).
    pub fn add_writer(&mut self, name: &'static str, f: WriterFactory) {
        self.writers.insert(name, f);
    }

    /// Declare the parameters of the plugin `name` of `kind` (see [`logferry_config::params`]):
    /// its sections are then read through the declaration, which also drives `logferry plugins`,
    /// the JSON schema and `--dry-run`'s defaults. Parsers and formatters are declared here too.
    pub fn declare(&mut self, kind: PluginKind, name: &'static str, spec: &'static Spec) {
        self.specs.insert((kind, name), spec);
    }

    /// `s` read through the declaration of `ty`, its refused parameters refused.
    fn declared<'a>(
        &self,
        kind: PluginKind,
        ty: &str,
        s: &Section<'a>,
    ) -> Result<Section<'a>, BuildError> {
        match self.specs.get(&(kind, ty)) {
            Some(spec) => {
                let s = s.declared(spec);
                s.refuse_declared()?;
                Ok(s)
            }
            None => Ok(s.clone()),
        }
    }

    /// A `<secondary>` section read through the declaration of its type.
    pub fn declared_output<'a>(
        &self,
        ty: &str,
        s: &Section<'a>,
    ) -> Result<Section<'a>, BuildError> {
        self.declared(PluginKind::Output, ty, s)
    }

    /// A chunk writer type (for `<secondary>`).
    pub fn writer(&self, name: &str) -> Option<WriterFactory> {
        self.buffered
            .get(name)
            .map(|(f, _)| *f)
            .or_else(|| self.writers.get(name).copied())
    }

    /// Types that can take chunks.
    pub fn writer_names(&self) -> Vec<&'static str> {
        let mut v: Vec<&'static str> = self
            .buffered
            .keys()
            .chain(self.writers.keys())
            .copied()
            .collect();
        v.sort_unstable();
        v.dedup();
        v
    }

    /// The registered type names of a kind, sorted.
    pub fn names(&self, kind: Kind) -> Vec<&'static str> {
        match kind {
            Kind::Input => self.inputs.keys().copied().collect(),
            Kind::Filter => self.filters.keys().copied().collect(),
            Kind::Output => {
                let mut v: Vec<&'static str> = self
                    .outputs
                    .keys()
                    .chain(self.buffered.keys())
                    .copied()
                    .collect();
                v.sort_unstable();
                v.dedup();
                v
            }
        }
    }

    fn unknown(&self, kind: Kind, section: &Section, ty: &str) -> BuildError {
        let what = match kind {
            Kind::Input => "input",
            Kind::Filter => "filter",
            Kind::Output => "output",
        };
        let pos = section
            .param("@type")
            .or_else(|| section.param("type"))
            .map(|p| &p.pos)
            .unwrap_or(section.pos());
        build_error(
            pos,
            format!(
                "unknown {what} plugin '{ty}'; supported {what} types: {}",
                self.names(kind).join(", ")
            ),
        )
    }

    /// Build an input of type `ty`.
    pub fn input(
        &self,
        ty: &str,
        ctx: &BuildCtx,
        s: &Section,
    ) -> Result<Arc<dyn Input>, BuildError> {
        let f = self
            .inputs
            .get(ty)
            .ok_or_else(|| self.unknown(Kind::Input, s, ty))?;
        f(ctx, &self.declared(PluginKind::Input, ty, s)?)
    }

    /// Build a filter of type `ty`.
    pub fn filter(
        &self,
        ty: &str,
        ctx: &BuildCtx,
        s: &Section,
    ) -> Result<Arc<dyn Filter>, BuildError> {
        let f = self
            .filters
            .get(ty)
            .ok_or_else(|| self.unknown(Kind::Filter, s, ty))?;
        f(ctx, &self.declared(PluginKind::Filter, ty, s)?)
    }

    /// Build an output of type `ty`.
    pub fn output(
        &self,
        ty: &str,
        ctx: &BuildCtx,
        s: &Section,
    ) -> Result<Arc<dyn Output>, BuildError> {
        if let Some((f, defaults)) = self.buffered.get(ty) {
            let s = self.declared(PluginKind::Output, ty, s)?;
            return build_buffered(ctx, &s, ty, *f, defaults);
        }
        let f = self
            .outputs
            .get(ty)
            .ok_or_else(|| self.unknown(Kind::Output, s, ty))?;
        f(ctx, &self.declared(PluginKind::Output, ty, s)?)
    }
}

impl Declarations for Registry {
    fn spec(&self, kind: PluginKind, name: &str) -> Option<&'static Spec> {
        self.specs.get(&(kind, name)).copied()
    }

    fn top_sections(&self) -> Vec<&'static Spec> {
        vec![&crate::system::SYSTEM]
    }

    fn plugins(&self) -> Vec<PluginDecl> {
        let mut out: Vec<PluginDecl> = Vec::new();
        let registered = [
            (PluginKind::Input, self.names(Kind::Input)),
            (PluginKind::Filter, self.names(Kind::Filter)),
            (PluginKind::Output, {
                let mut v = self.names(Kind::Output);
                v.extend(self.writer_names());
                v
            }),
        ];
        let declared = self.specs.keys().copied();
        let all = registered
            .into_iter()
            .flat_map(|(k, names)| names.into_iter().map(move |n| (k, n)))
            .chain(declared);
        for (kind, name) in all {
            if !out.iter().any(|p| p.kind == kind && p.name == name) {
                out.push(PluginDecl {
                    kind,
                    name,
                    spec: self.spec(kind, name),
                });
            }
        }
        out.sort_by_key(|p| (p.kind, p.name));
        out
    }
}
