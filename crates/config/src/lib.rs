//! Fluentd-compatible configuration parser for logferry.
//!
//! Parses the Fluentd v1 configuration language (sections, parameters, quoted and
//! JSON values, `#{...}` interpolation, `@include`) into an [`Element`] tree,
//! offers Fluentd's lenient value coercions in [`types`], and typed access to a
//! plugin's section in [`section`] ([`Section`], which warns about parameters no
//! plugin read, and [`BuildError`], the error of building a plugin from its section).
//!
//! ```
//! let root = logferry_config::parse_str(
//!     "<match app.**>\n  @type stdout\n</match>\n",
//!     "fluent.conf",
//!     std::path::Path::new("."),
//! )
//! .unwrap();
//! let m = root.elements_named("match").next().unwrap();
//! assert_eq!(m.arg, "app.**");
//! assert_eq!(m.plugin_type().unwrap().value, "stdout");
//! ```
#![warn(missing_docs)]

mod dump;
mod element;
mod error;
mod include;
mod interpolate;
mod lexer;
mod literal;
pub mod params;
mod parser;
pub mod reference;
pub mod resolve;
pub mod schema;
pub mod section;
mod typed;
pub mod types;

use std::path::Path;
use std::sync::Arc;

pub use element::{Element, Param, Pos};
pub use error::{build_error, BuildError, ConfigError, Warning};
pub use section::Section;
pub use typed::FromParam;

/// Name of the root element returned by the parse functions.
pub const ROOT_NAME: &str = "ROOT";

/// Parses a configuration file; `@include`s are resolved relative to its directory.
///
/// The returned root element is named `"ROOT"`; its `params` are the top-level
/// parameters and its `elements` the top-level sections.
pub fn parse_file(path: &Path) -> Result<Element, ConfigError> {
    parse_file_with_warnings(path).map(|(root, _)| root)
}

/// Like [`parse_file`], also returning non-fatal warnings (deprecated `include`,
/// `@`-prefixed keys in nested sections, duplicate keys, globs matching nothing, ...).
pub fn parse_file_with_warnings(path: &Path) -> Result<(Element, Vec<Warning>), ConfigError> {
    let text = include::read_config_file(path, None)?;
    let base_dir = path.parent().unwrap_or_else(|| Path::new(""));
    let mut ctx = parser::Ctx::default();
    if let Ok(canon) = path.canonicalize() {
        ctx.include_chain.push(canon);
    }
    parse_root(&text, path.display().to_string(), base_dir, ctx)
}

/// Like [`parse_file_with_warnings`], with Fluentd's `-i`/`--inline-config` text appended to the
/// file's (after a newline, each two-character `\n` in it a newline, as Fluentd's
/// `Config.build` does): it is read as the file's last lines, positions and all.
pub fn parse_file_with_inline(
    path: &Path,
    inline: Option<&str>,
) -> Result<(Element, Vec<Warning>), ConfigError> {
    let Some(inline) = inline else {
        return parse_file_with_warnings(path);
    };
    let mut text = include::read_config_file(path, None)?;
    text.push('\n');
    text.push_str(&inline.replace("\\n", "\n"));
    let base_dir = path.parent().unwrap_or_else(|| Path::new(""));
    let mut ctx = parser::Ctx::default();
    if let Ok(canon) = path.canonicalize() {
        ctx.include_chain.push(canon);
    }
    parse_root(&text, path.display().to_string(), base_dir, ctx)
}

/// Parses configuration text. `file_name` is used in positions; `@include`s are
/// resolved relative to `base_dir`.
pub fn parse_str(text: &str, file_name: &str, base_dir: &Path) -> Result<Element, ConfigError> {
    parse_str_with_warnings(text, file_name, base_dir).map(|(root, _)| root)
}

/// Like [`parse_str`], also returning non-fatal warnings.
pub fn parse_str_with_warnings(
    text: &str,
    file_name: &str,
    base_dir: &Path,
) -> Result<(Element, Vec<Warning>), ConfigError> {
    parse_root(
        text,
        file_name.to_string(),
        base_dir,
        parser::Ctx::default(),
    )
}

fn parse_root(
    text: &str,
    file_name: String,
    base_dir: &Path,
    mut ctx: parser::Ctx,
) -> Result<(Element, Vec<Warning>), ConfigError> {
    let file: Arc<str> = Arc::from(file_name);
    let mut root = Element::new(ROOT_NAME, "", Pos::new(file.clone(), 1, 1));
    parser::parse_into(&mut root, text, file, base_dir, &mut ctx)?;
    Ok((root, ctx.warnings))
}
