//! The test files of `logferry test`: TOML or YAML, read into one model.
//!
//! ```toml
//! [[tests]]
//! name = "nginx lines are parsed"
//!
//!   [[tests.inputs]]
//!   source = "in_docker"        # a <source @id> (its @label applies); or label = "@APP"; or neither (root)
//!   tag = "docker.nginx"         # default: the source's own `tag` parameter
//!   time = "2024-05-01T12:00:00Z" # RFC 3339 or float seconds; default 2024-01-01T00:00:00Z
//!   records = [{ log = "GET /" }] # or record = { ... }
//!
//!   [[tests.outputs]]
//!   match = "out_s3"            # a <match>/<store> @id, or a <match> pattern as written ("app.**")
//!   label = "@APP"              # where to look the pattern up (default: the root)
//!   events = [{ tag = "x", record = { path = "/" } }]  # exactly these, in order; [] = none
//! ```

use std::path::Path;

use logferry_msgpack::EventTime;
use serde_json::Value as J;

/// The time of an input event that gives none (fixed, so expected outputs are reproducible).
pub const DEFAULT_TIME: EventTime = EventTime {
    sec: 1_704_067_200,
    nsec: 0,
};

/// One test file.
#[derive(Debug)]
pub struct TestFile {
    /// Its tests, in file order.
    pub tests: Vec<TestCase>,
}

/// One `[[tests]]` entry.
#[derive(Debug)]
pub struct TestCase {
    /// `name`.
    pub name: String,
    /// `inputs`, emitted in order.
    pub inputs: Vec<Input>,
    /// `outputs`, each checked.
    pub outputs: Vec<Expect>,
}

/// Where input events enter.
#[derive(Debug, Clone, PartialEq)]
pub enum Entry {
    /// As if read by the `<source>` with this `@id`.
    Source(String),
    /// Into this label (`@ROOT` = the root).
    Label(String),
    /// Into the root router.
    Root,
}

/// One `[[tests.inputs]]` entry: events of one tag.
#[derive(Debug)]
pub struct Input {
    /// Where they enter.
    pub entry: Entry,
    /// The tag (None: the source's `tag` parameter).
    pub tag: Option<String>,
    /// The records with their times.
    pub events: Vec<(EventTime, J)>,
}

/// One expected event.
#[derive(Debug, Clone)]
pub struct ExpectedEvent {
    /// The tag, when checked.
    pub tag: Option<String>,
    /// The time, when checked.
    pub time: Option<EventTime>,
    /// The record, compared as JSON (key order aside).
    pub record: J,
}

/// One `[[tests.outputs]]` entry.
#[derive(Debug)]
pub struct Expect {
    /// `match`: an `@id` or a `<match>` pattern.
    pub at: String,
    /// `label`: where a pattern is looked up.
    pub label: Option<String>,
    /// `events`: what must arrive, in order.
    pub events: Vec<ExpectedEvent>,
}

/// Read a test file (`.toml`, or `.yaml`/`.yml`).
pub fn load(path: &Path) -> Result<TestFile, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
    let doc: J = match ext {
        "toml" => toml::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?,
        "yaml" | "yml" => {
            serde_norway::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?
        }
        _ => {
            return Err(format!(
                "{}: a test file is .toml, .yaml or .yml",
                path.display()
            ))
        }
    };
    from_doc(&doc).map_err(|e| format!("{}: {e}", path.display()))
}

/// Read the model out of a parsed document.
pub fn from_doc(doc: &J) -> Result<TestFile, String> {
    let obj = object(doc, "the file")?;
    known(obj, &["tests"], "the file")?;
    let tests = array(obj.get("tests"), "tests")?;
    if tests.is_empty() {
        return Err("no tests: add [[tests]] entries".into());
    }
    let tests = tests
        .iter()
        .enumerate()
        .map(|(i, t)| case(t).map_err(|e| format!("tests[{i}]: {e}")))
        .collect::<Result<_, _>>()?;
    Ok(TestFile { tests })
}

fn case(t: &J) -> Result<TestCase, String> {
    let o = object(t, "a test")?;
    known(o, &["name", "inputs", "outputs"], "a test")?;
    let name = string(o.get("name"), "name")?.ok_or("a test needs a name")?;
    let inputs = array(o.get("inputs"), "inputs")?
        .iter()
        .enumerate()
        .map(|(i, x)| input(x).map_err(|e| format!("{name}: inputs[{i}]: {e}")))
        .collect::<Result<Vec<_>, _>>()?;
    let outputs = array(o.get("outputs"), "outputs")?
        .iter()
        .enumerate()
        .map(|(i, x)| expect(x).map_err(|e| format!("{name}: outputs[{i}]: {e}")))
        .collect::<Result<Vec<_>, _>>()?;
    if inputs.is_empty() || outputs.is_empty() {
        return Err(format!("{name}: a test needs inputs and outputs"));
    }
    Ok(TestCase {
        name,
        inputs,
        outputs,
    })
}

fn input(x: &J) -> Result<Input, String> {
    let o = object(x, "an input")?;
    known(
        o,
        &["source", "label", "tag", "time", "record", "records"],
        "an input",
    )?;
    let entry = match (
        string(o.get("source"), "source")?,
        string(o.get("label"), "label")?,
    ) {
        (Some(_), Some(_)) => return Err("give source or label, not both".into()),
        (Some(s), None) => Entry::Source(s),
        (None, Some(l)) => Entry::Label(l),
        (None, None) => Entry::Root,
    };
    let time = match o.get("time") {
        None => DEFAULT_TIME,
        Some(t) => time(t)?,
    };
    let records: Vec<J> = match (o.get("record"), o.get("records")) {
        (Some(_), Some(_)) => return Err("give record or records, not both".into()),
        (Some(r), None) => vec![r.clone()],
        (None, Some(J::Array(rs))) => rs.clone(),
        (None, Some(_)) => return Err("records must be a list of tables".into()),
        (None, None) => return Err("an input needs record or records".into()),
    };
    for r in &records {
        if !r.is_object() {
            return Err(format!("a record must be a table, not {r}"));
        }
    }
    Ok(Input {
        entry,
        tag: string(o.get("tag"), "tag")?,
        events: records.into_iter().map(|r| (time, r)).collect(),
    })
}

fn expect(x: &J) -> Result<Expect, String> {
    let o = object(x, "an output")?;
    known(o, &["match", "label", "events"], "an output")?;
    let at = string(o.get("match"), "match")?
        .ok_or("an output needs match (an @id or a <match> pattern)")?;
    let events = match o.get("events") {
        Some(J::Array(es)) => es
            .iter()
            .enumerate()
            .map(|(i, e)| expected_event(e).map_err(|m| format!("events[{i}]: {m}")))
            .collect::<Result<_, _>>()?,
        _ => return Err("an output needs events, a list ([] = no event arrives)".into()),
    };
    Ok(Expect {
        at,
        label: string(o.get("label"), "label")?,
        events,
    })
}

fn expected_event(e: &J) -> Result<ExpectedEvent, String> {
    let o = object(e, "an event")?;
    known(o, &["tag", "time", "record"], "an event")?;
    let record = o.get("record").ok_or("an event needs record")?;
    if !record.is_object() {
        return Err(format!("a record must be a table, not {record}"));
    }
    Ok(ExpectedEvent {
        tag: string(o.get("tag"), "tag")?,
        time: o.get("time").map(time).transpose()?,
        record: record.clone(),
    })
}

/// A time: RFC 3339 text or seconds since the epoch.
pub fn time(t: &J) -> Result<EventTime, String> {
    match t {
        J::Number(n) => {
            let f = n.as_f64().unwrap_or(-1.0);
            if !(0.0..4_294_967_296.0).contains(&f) {
                return Err(format!("time {n} is out of range"));
            }
            Ok(EventTime::from_f64(f))
        }
        J::String(s) => {
            let d = chrono::DateTime::parse_from_rfc3339(s)
                .map_err(|e| format!("time '{s}' is not RFC 3339 ({e})"))?;
            let sec =
                u32::try_from(d.timestamp()).map_err(|_| format!("time '{s}' is out of range"))?;
            Ok(EventTime::new(sec, d.timestamp_subsec_nanos()))
        }
        other => Err(format!(
            "time must be RFC 3339 text or seconds, not {other}"
        )),
    }
}

fn object<'a>(v: &'a J, what: &str) -> Result<&'a serde_json::Map<String, J>, String> {
    v.as_object()
        .ok_or_else(|| format!("{what} must be a table, not {v}"))
}

fn array<'a>(v: Option<&'a J>, what: &str) -> Result<&'a [J], String> {
    match v {
        None => Ok(&[]),
        Some(J::Array(a)) => Ok(a),
        Some(other) => Err(format!("{what} must be a list, not {other}")),
    }
}

fn string(v: Option<&J>, what: &str) -> Result<Option<String>, String> {
    match v {
        None => Ok(None),
        Some(J::String(s)) => Ok(Some(s.clone())),
        Some(other) => Err(format!("{what} must be text, not {other}")),
    }
}

/// Refuse keys the model does not know: a typo must not turn a check off.
fn known(o: &serde_json::Map<String, J>, keys: &[&str], what: &str) -> Result<(), String> {
    match o.keys().find(|k| !keys.contains(&k.as_str())) {
        Some(k) => Err(format!(
            "unknown key '{k}' in {what}; expected one of {}",
            keys.join(", ")
        )),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toml_and_yaml_read_the_same() {
        let t: J = toml::from_str(
            "[[tests]]\nname = \"a\"\n[[tests.inputs]]\nsource = \"in\"\ntag = \"t\"\ntime = 1.5\nrecord = { k = 1 }\n[[tests.outputs]]\nmatch = \"**\"\nevents = [{ record = { k = 1 } }]\n",
        )
        .unwrap();
        let y: J = serde_norway::from_str(
            "tests:\n  - name: a\n    inputs:\n      - source: in\n        tag: t\n        time: 1.5\n        record: {k: 1}\n    outputs:\n      - match: '**'\n        events:\n          - record: {k: 1}\n",
        )
        .unwrap();
        assert_eq!(t, y);
        let f = from_doc(&t).unwrap();
        let i = &f.tests[0].inputs[0];
        assert_eq!(i.entry, Entry::Source("in".into()));
        assert_eq!(i.events[0].0, EventTime::new(1, 500_000_000));
        assert_eq!(f.tests[0].outputs[0].at, "**");
    }

    #[test]
    fn typos_and_missing_keys_are_refused() {
        let doc: J = toml::from_str(
            "[[tests]]\nname = \"a\"\n[[tests.inputs]]\ntag = \"t\"\nrecord = {}\n[[tests.outputs]]\nmatch = \"x\"\nevent = []\n",
        )
        .unwrap();
        let e = from_doc(&doc).unwrap_err();
        assert!(e.contains("unknown key 'event'"), "{e}");
        assert!(time(&J::String("yesterday".into())).is_err());
        assert_eq!(
            time(&J::String("2024-01-01T00:00:00.25Z".into())).unwrap(),
            EventTime::new(1_704_067_200, 250_000_000)
        );
    }
}
