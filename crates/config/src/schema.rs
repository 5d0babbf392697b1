//! A JSON schema of every plugin's parameters (as Fluent Bit's `-J`), and a config tree as the
//! JSON it describes, so editors and CI can validate configs.
//!
//! A config as JSON ([`to_json`]): each section is an object whose parameters are string
//! properties, whose argument (`<match ARG>`) is `"$arg"`, and whose sub-sections are arrays
//! under their name. The schema ([`schema`]) has one definition per plugin (`input.forward`,
//! `output.s3`…) and per fixed section (`section.buffer`…); a plugin's definition admits its
//! declared parameters and sections only, so a misspelt parameter fails validation.

use serde_json::{json, Map, Value};

use crate::params::{Body, Declarations, ParamDef, ParamType, PluginKind, Spec};
use crate::section::RESERVED;
use crate::Element;

/// A config tree as JSON (see the module doc).
pub fn to_json(el: &Element) -> Value {
    let mut obj = Map::new();
    if !el.arg.is_empty() {
        obj.insert("$arg".into(), Value::String(el.arg.clone()));
    }
    for p in &el.params {
        obj.insert(p.key.clone(), Value::String(p.value.clone()));
    }
    for c in &el.elements {
        let list = obj
            .entry(c.name.clone())
            .or_insert_with(|| Value::Array(Vec::new()));
        if let Value::Array(items) = list {
            items.push(to_json(c));
        }
    }
    Value::Object(obj)
}

fn def_name(kind: PluginKind, name: &str) -> String {
    format!("{}.{name}", kind.name())
}

fn reference(name: &str) -> Value {
    json!({ "$ref": format!("#/$defs/{name}") })
}

/// The schema of one parameter's value.
fn value_schema(d: &ParamDef) -> Value {
    let mut v = match d.ty {
        ParamType::Str | ParamType::Regexp => json!({"type": "string"}),
        ParamType::Integer => json!({"type": ["integer", "string"]}),
        ParamType::Float | ParamType::Size | ParamType::Time => {
            json!({"type": ["number", "string"]})
        }
        ParamType::Bool => json!({"anyOf": [
            {"type": "boolean"},
            {"enum": ["true", "false", "yes", "no", ""]}
        ]}),
        ParamType::Enum(values) => json!({ "enum": values }),
        ParamType::Array => json!({"type": ["array", "string"]}),
        ParamType::Hash => json!({"type": ["object", "string"]}),
    };
    let obj = v.as_object_mut().expect("an object");
    obj.insert("description".into(), Value::String(d.doc.into()));
    if let Some(t) = d.default.text() {
        obj.insert("default".into(), Value::String(t.into()));
    }
    if d.secret {
        obj.insert("writeOnly".into(), Value::Bool(true));
    }
    v
}

/// The definition of a section declared by `spec`; `ty` is the `@type` it answers to.
fn spec_schema(spec: &Spec, ty: Option<&str>) -> Value {
    let mut props = Map::new();
    for k in RESERVED {
        props.insert((*k).into(), json!({"type": "string"}));
    }
    props.insert("$arg".into(), json!({"type": "string"}));
    if let Some(ty) = ty {
        for k in ["@type", "type"] {
            props.insert(k.into(), json!({ "const": ty }));
        }
    }
    let mut required = Vec::new();
    let current = spec.current_and_legacy().0;
    for d in spec.all_params() {
        props.insert(d.name.into(), value_schema(d));
        for a in d.aliases {
            let mut v = value_schema(d);
            v["description"] = Value::String(format!("Old name of `{}`.", d.name));
            v["deprecated"] = Value::Bool(true);
            props.insert((*a).into(), v);
        }
        let is_current = current.iter().any(|c| std::ptr::eq(*c, d));
        if d.default == crate::params::DefaultValue::Required && d.aliases.is_empty() && is_current
        {
            required.push(Value::String(d.name.into()));
        }
    }
    for s in spec.all_sections() {
        let items = match s.body {
            Body::Spec(sub) => reference(&format!("section.{}", sub.name)),
            Body::Plugin(kind, _) => reference(kind.name()),
        };
        let mut v = json!({"type": "array", "items": items, "description": s.doc});
        if !s.multi {
            v["maxItems"] = json!(1);
        }
        props.insert(s.name.into(), v);
    }
    json!({
        "type": "object",
        "description": spec.doc,
        "properties": props,
        "required": required,
        "additionalProperties": spec.is_open(),
    })
}

/// The JSON schema of configs using the plugins `decls` knows.
pub fn schema(decls: &dyn Declarations) -> Value {
    let mut defs = Map::new();
    let mut fixed = Vec::new();
    let plugins = decls.plugins();
    for kind in PluginKind::ALL {
        let mut branches = Vec::new();
        let mut names = Vec::new();
        for p in plugins.iter().filter(|p| p.kind == kind) {
            let name = def_name(kind, p.name);
            let def = match p.spec {
                Some(spec) => {
                    spec.fixed_sections(&mut fixed);
                    spec_schema(spec, Some(p.name))
                }
                None => json!({
                    "type": "object",
                    "description": "Parameters not declared yet.",
                    "properties": {"@type": {"const": p.name}, "type": {"const": p.name}},
                }),
            };
            defs.insert(name.clone(), def);
            names.push(p.name);
            branches.push(json!({
                "if": {"properties": {"@type": {"const": p.name}}, "required": ["@type"]},
                "then": reference(&name),
            }));
        }
        // Dispatch on `@type`, so a validator reports the parameter at fault, not "no match".
        defs.insert(
            kind.name().into(),
            json!({
                "type": "object",
                "properties": {"@type": {"enum": names}},
                "allOf": branches,
            }),
        );
    }
    let top = decls.top_sections();
    for s in &top {
        if !fixed.iter().any(|f| std::ptr::eq(*f, *s)) {
            fixed.push(s);
        }
        s.fixed_sections(&mut fixed);
    }
    for s in fixed {
        defs.insert(format!("section.{}", s.name), spec_schema(s, None));
    }
    let list = |kind: &str| json!({"type": "array", "items": reference(kind)});
    let mut label_props = Map::new();
    label_props.insert("$arg".into(), json!({"type": "string"}));
    label_props.insert("filter".into(), list("filter"));
    label_props.insert("match".into(), list("output"));
    let mut schema = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "logferry configuration (as `logferry --dry-run --json` writes it)",
        "type": "object",
        "properties": {
            "source": list("input"),
            "filter": list("filter"),
            "match": list("output"),
            "label": {"type": "array", "items": {
                "type": "object", "properties": label_props, "additionalProperties": false
            }},
            "system": {"type": "array"},
            "worker": {"type": "array"},
        },
        "$defs": defs,
    });
    for s in top {
        let items = reference(&format!("section.{}", s.name));
        schema["properties"][s.name] =
            json!({"type": "array", "items": items, "description": s.doc});
    }
    schema
}
