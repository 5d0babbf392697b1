//! Plugin factories by `@type` name.

use std::collections::BTreeMap;
use std::sync::Arc;

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

    /// The registered type names of a kind, sorted.
    pub fn names(&self, kind: Kind) -> Vec<&'static str> {
        match kind {
            Kind::Input => self.inputs.keys().copied().collect(),
            Kind::Filter => self.filters.keys().copied().collect(),
            Kind::Output => self.outputs.keys().copied().collect(),
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
        f(ctx, s)
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
        f(ctx, s)
    }

    /// Build an output of type `ty`.
    pub fn output(
        &self,
        ty: &str,
        ctx: &BuildCtx,
        s: &Section,
    ) -> Result<Arc<dyn Output>, BuildError> {
        let f = self
            .outputs
            .get(ty)
            .ok_or_else(|| self.unknown(Kind::Output, s, ty))?;
        f(ctx, s)
    }
}
