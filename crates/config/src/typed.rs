//! Typed values of declared parameters: the coercion follows the declared [`ParamType`].

use crate::error::{build_error, BuildError};
use crate::params::{ParamDef, ParamType};
use crate::{types, Pos};

/// A Rust type a declared parameter can be read as with [`crate::Section::get`].
pub trait FromParam<'a>: Sized {
    /// The value of config text (as written, or the declared default).
    fn from_text(def: &ParamDef, text: &'a str, pos: &Pos) -> Result<Self, BuildError>;

    /// The value of a parameter that is absent and has no default value (`Option`s: `None`).
    fn absent() -> Option<Self> {
        None
    }
}

/// Complain, in debug builds, when a parameter is read as a type its declaration does not allow.
fn expect(def: &ParamDef, ok: bool, as_what: &str) {
    debug_assert!(
        ok,
        "parameter '{}' is declared {} but read as {as_what}",
        def.name,
        def.ty.name()
    );
}

impl<'a> FromParam<'a> for bool {
    fn from_text(def: &ParamDef, text: &'a str, pos: &Pos) -> Result<Self, BuildError> {
        expect(def, def.ty == ParamType::Bool, "bool");
        types::bool(text).ok_or_else(|| {
            build_error(
                pos,
                format!("'{}': expected true or false, got '{text}'", def.name),
            )
        })
    }
}

impl<'a> FromParam<'a> for &'a str {
    fn from_text(def: &ParamDef, text: &'a str, pos: &Pos) -> Result<Self, BuildError> {
        if let ParamType::Enum(allowed) = def.ty {
            if !allowed.contains(&text) {
                return Err(build_error(
                    pos,
                    format!(
                        "'{}': '{text}' is not one of: {}",
                        def.name,
                        allowed.join(", ")
                    ),
                ));
            }
        }
        Ok(text)
    }
}

impl<'a> FromParam<'a> for String {
    fn from_text(def: &ParamDef, text: &'a str, pos: &Pos) -> Result<Self, BuildError> {
        <&str>::from_text(def, text, pos).map(str::to_string)
    }
}

impl<'a> FromParam<'a> for u64 {
    fn from_text(def: &ParamDef, text: &'a str, _: &Pos) -> Result<Self, BuildError> {
        Ok(match def.ty {
            ParamType::Integer => u64::try_from(types::integer(text)).unwrap_or(0),
            ty => {
                expect(def, ty == ParamType::Size, "a size");
                types::size(text)
            }
        })
    }
}

impl<'a> FromParam<'a> for usize {
    fn from_text(def: &ParamDef, text: &'a str, pos: &Pos) -> Result<Self, BuildError> {
        u64::from_text(def, text, pos).map(|v| usize::try_from(v).unwrap_or(usize::MAX))
    }
}

impl<'a> FromParam<'a> for u32 {
    fn from_text(def: &ParamDef, text: &'a str, pos: &Pos) -> Result<Self, BuildError> {
        u64::from_text(def, text, pos).map(|v| u32::try_from(v).unwrap_or(u32::MAX))
    }
}

impl<'a> FromParam<'a> for i64 {
    fn from_text(def: &ParamDef, text: &'a str, _: &Pos) -> Result<Self, BuildError> {
        Ok(match def.ty {
            ParamType::Size => i64::try_from(types::size(text)).unwrap_or(i64::MAX),
            ty => {
                expect(def, ty == ParamType::Integer, "an integer");
                types::integer(text)
            }
        })
    }
}

impl<'a> FromParam<'a> for f64 {
    fn from_text(def: &ParamDef, text: &'a str, _: &Pos) -> Result<Self, BuildError> {
        Ok(match def.ty {
            ParamType::Time => types::time(text),
            ParamType::Integer => types::integer(text) as f64,
            ty => {
                expect(def, ty == ParamType::Float, "a float");
                types::float(text)
            }
        })
    }
}

impl<'a> FromParam<'a> for Vec<String> {
    fn from_text(def: &ParamDef, text: &'a str, pos: &Pos) -> Result<Self, BuildError> {
        expect(def, def.ty == ParamType::Array, "an array");
        types::array(text).map_err(|e| build_error(pos, format!("'{}': {e}", def.name)))
    }
}

impl<'a> FromParam<'a> for Vec<(String, String)> {
    fn from_text(def: &ParamDef, text: &'a str, pos: &Pos) -> Result<Self, BuildError> {
        expect(def, def.ty == ParamType::Hash, "a hash");
        types::hash(text).map_err(|e| build_error(pos, format!("'{}': {e}", def.name)))
    }
}

impl<'a, T: FromParam<'a>> FromParam<'a> for Option<T> {
    fn from_text(def: &ParamDef, text: &'a str, pos: &Pos) -> Result<Self, BuildError> {
        T::from_text(def, text, pos).map(Some)
    }

    fn absent() -> Option<Self> {
        Some(None)
    }
}
