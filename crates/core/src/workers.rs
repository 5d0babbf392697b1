//! `<worker N>` / `<worker N-M>` sections, served by logferry's one process.
//!
//! In Fluentd, `<system> workers N` starts N worker processes; each runs the top-level sections
//! plus those of the `<worker>` sections naming it, its routing seeing the top-level `<filter>`
//! and `<match>` sections first, then its `<worker>` section's (Fluentd appends them). logferry
//! runs one process, so it builds every section once and keeps that routing:
//!
//! * a `<worker>` section without `<filter>`/`<match>` of its own: its sections join the top
//!   level (its sources route through the top-level sections, as in Fluentd);
//! * one with its own `<filter>`/`<match>`: they go into a label of their own, `@worker <arg>`,
//!   and its `<source>`s without `@label` emit into it, so its events meet only its own
//!   filters and matches, as in Fluentd's worker process. If the top level has `<filter>` or
//!   `<match>` sections too, Fluentd runs them first in every worker, i.e. once per worker
//!   process — a per-process copy logferry cannot make of an output: refused with an error.
//!
//! Checks follow Fluentd's `RootAgent#configure`: an id is required, ranges go upwards, every
//! id is below `workers`, an id is claimed by one `N-M` section only (a plain `<worker N>` claims
//! nothing: Fluentd lets it name an id another section names), and only `<source>`, `<filter>`,
//! `<match>` and `<label>` may be inside. The argument is read as Fluentd reads it: split at `-`
//! (Ruby's `split`, trailing empty parts dropped), two parts a range, anything else one id, each
//! by Ruby's `String#to_i` (`<worker a>` is worker 0, `<worker 1->` worker 1, `<worker -1>`
//! workers 0 to 1). Sections sharing an id are refused when one of them has `<filter>`/`<match>`
//! of its own: Fluentd's worker would route through both sections' rules, one label cannot.

use logferry_config::types::ruby_to_i;
use logferry_config::{Element, Param};

use crate::error::{build_error, BuildError};

/// The config with `<worker>` sections resolved, and the `<worker>` arguments seen.
pub struct Flattened {
    /// The root to build.
    pub root: Element,
    /// The argument of each `<worker>` section, in file order (`0`, `1-9`).
    pub sections: Vec<String>,
}

/// The label that holds the filters and matches of `<worker arg>`.
pub fn label_name(arg: &str) -> String {
    format!("@worker {arg}")
}

/// Resolve the `<worker>` sections of `root` for `workers` worker processes.
pub fn flatten(root: &Element, workers: i64) -> Result<Flattened, BuildError> {
    if !root.elements.iter().any(|e| e.name == "worker") {
        return Ok(Flattened {
            root: root.clone(),
            sections: Vec::new(),
        });
    }
    let last = workers - 1;
    let mut used: Vec<i64> = Vec::new();
    let mut sections = Vec::new();
    let top_has_rules = root
        .elements
        .iter()
        .any(|e| e.name == "filter" || e.name == "match");
    let mut out = Element::new(root.name.clone(), root.arg.clone(), root.pos.clone());
    out.params = root.params.clone();
    let mut appended = Vec::new();
    // (arg, number of worker ids) of the sections with rules of their own.
    let mut ruled_sections: Vec<(String, usize)> = Vec::new();
    // The ids of each section so far, and whether it has rules of its own.
    let mut covered: Vec<(Vec<i64>, bool)> = Vec::new();
    for el in &root.elements {
        if el.name != "worker" {
            out.elements.push(el.clone());
            continue;
        }
        let arg = el.arg.trim();
        if arg.is_empty() {
            return Err(build_error(
                &el.pos,
                "missing worker id on <worker> directive",
            ));
        }
        let (ids, range) = worker_ids(arg, last).map_err(|m| build_error(&el.pos, m))?;
        for id in ids.iter().filter(|_| range) {
            if used.contains(id) {
                let available: Vec<String> = (0..workers)
                    .filter(|i| !used.contains(i))
                    .map(|i| i.to_string())
                    .collect();
                return Err(build_error(
                    &el.pos,
                    format!(
                        "worker id {id} is already claimed by another <worker> directive; available worker ids: [{}]",
                        available.join(", ")
                    ),
                ));
            }
        }
        if range {
            used.extend(&ids);
        }
        if let Some(bad) = el
            .elements
            .iter()
            .find(|e| !matches!(e.name.as_str(), "source" | "filter" | "match" | "label"))
        {
            return Err(build_error(
                &bad.pos,
                format!(
                    "<worker> section cannot have <{}> directive; expected <source>, <filter>, <match> or <label>",
                    bad.name
                ),
            ));
        }
        for p in &el.params {
            tracing::warn!("{}: parameter '{}' in <worker> is not used", p.pos, p.key);
        }
        sections.push(arg.to_string());
        let has_rules = el
            .elements
            .iter()
            .any(|e| e.name == "filter" || e.name == "match");
        if let Some((other, _)) = covered
            .iter()
            .find(|(a, r)| (*r || has_rules) && a.iter().any(|i| ids.contains(i)))
        {
            let other = other
                .iter()
                .map(i64::to_string)
                .collect::<Vec<_>>()
                .join(", ");
            return Err(build_error(
                &el.pos,
                format!(
                    "<worker {arg}> names worker ids [{other}] that an earlier <worker> section names too, and one of them has <filter>/<match> sections of its own: Fluentd's worker routes through both sections' rules, logferry's one process routes each section's sources through its own. Merge the two sections"
                ),
            ));
        }
        covered.push((ids.clone(), has_rules));
        let own_rules: Vec<&Element> = el
            .elements
            .iter()
            .filter(|e| e.name == "filter" || e.name == "match")
            .collect();
        if own_rules.is_empty() {
            appended.extend(el.elements.iter().cloned());
            continue;
        }
        if top_has_rules {
            return Err(build_error(
                &el.pos,
                format!(
                    "<worker {arg}> has its own <filter>/<match> while the top level has <filter>/<match> sections too: Fluentd runs those in every worker process, logferry runs one process and cannot copy an output per worker. Move the top-level <filter>/<match> sections into each <worker> (or the <worker> ones out of it)"
                ),
            ));
        }
        ruled_sections.push((arg.to_string(), ids.len()));
        let label = label_name(arg);
        let mut holder = Element::new("label", label.clone(), el.pos.clone());
        for child in &el.elements {
            match child.name.as_str() {
                "filter" | "match" => holder.elements.push(child.clone()),
                "source" if child.param("@label").is_none() => {
                    let mut src = child.clone();
                    src.params.push(Param {
                        key: "@label".into(),
                        value: label.clone(),
                        pos: child.pos.clone(),
                    });
                    appended.push(src);
                }
                _ => appended.push(child.clone()),
            }
        }
        appended.push(holder);
    }
    // Top-level sources run in every Fluentd worker, their events routed by the sections of the
    // worker that took them. That is one routing only when one <worker> section with rules of
    // its own covers every worker.
    let ruled: Vec<(&String, usize)> = ruled_sections.iter().map(|(a, n)| (a, *n)).collect();
    if !ruled.is_empty() {
        let loose: Vec<usize> = out
            .elements
            .iter()
            .enumerate()
            .filter(|(_, e)| e.name == "source" && e.param("@label").is_none())
            .map(|(i, _)| i)
            .collect();
        if let Some(&first) = loose.first() {
            match ruled.as_slice() {
                [(arg, n)] if *n as i64 == workers => {
                    for i in loose {
                        let src = &mut out.elements[i];
                        let pos = src.pos.clone();
                        src.params.push(Param {
                            key: "@label".into(),
                            value: label_name(arg),
                            pos,
                        });
                    }
                }
                _ => {
                    return Err(build_error(
                        &out.elements[first].pos,
                        "this top-level <source> runs in every Fluentd worker, its events routed by the <filter>/<match> sections of whichever worker took them, and <worker> sections here have different ones: logferry runs one process and cannot route them both ways. Move the <source> into the <worker> section whose sections should route its events (or give it a @label)",
                    ))
                }
            }
        }
    }
    // Fluentd appends the <worker> sections' contents after the top-level ones.
    out.elements.extend(appended);
    Ok(Flattened {
        root: out,
        sections,
    })
}

/// The ids `N` or `N-M` names, checked against the last worker id, and whether it is a range
/// (Fluentd's reading: see the module doc).
fn worker_ids(arg: &str, last: i64) -> Result<(Vec<i64>, bool), String> {
    let mut parts: Vec<&str> = arg.split('-').collect();
    while parts.last() == Some(&"") {
        parts.pop();
    }
    let (first, end, range) = match parts.as_slice() {
        [a, b] => {
            let (a, b) = (ruby_to_i(a), ruby_to_i(b));
            if a > b {
                return Err(format!(
                    "greater first_worker_id<{a}> than last_worker_id<{b}> specified by <worker> directive is not allowed. Available multi worker assign syntax is <smaller_worker_id>-<greater_worker_id>"
                ));
            }
            (a, b, true)
        }
        _ => {
            let a = ruby_to_i(arg);
            (a, a, false)
        }
    };
    for id in [first, end] {
        if id < 0 || id > last {
            return Err(format!(
                "worker id {id} specified by <worker> directive is not allowed. Available worker id is between 0 and {last} (<system> workers {})",
                last + 1
            ));
        }
    }
    Ok(((first..=end).collect(), range))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn parse(text: &str) -> Element {
        logferry_config::parse_str(text, "w.conf", Path::new(".")).unwrap()
    }

    #[test]
    fn sections_without_rules_join_the_top_level() {
        let root = parse("<match **>\n  @type null\n</match>\n<worker 0>\n<source>\n  @type sample\n</source>\n</worker>\n");
        let f = flatten(&root, 2).unwrap();
        let names: Vec<&str> = f.root.elements.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["match", "source"]);
        assert_eq!(f.sections, ["0"]);
        assert!(f.root.elements[1].param("@label").is_none());
    }

    #[test]
    fn own_rules_go_into_a_label_the_sources_emit_into() {
        let root = parse("<worker 0>\n<source>\n  @type sample\n</source>\n<match a.**>\n  @type null\n</match>\n</worker>\n<worker 1-3>\n<source>\n  @type forward\n</source>\n<source>\n  @type sample\n  @label @x\n</source>\n<match **>\n  @type stdout\n</match>\n</worker>\n<label @x>\n<match **>\n  @type null\n</match>\n</label>\n");
        let f = flatten(&root, 4).unwrap();
        let got: Vec<(String, String, Option<String>)> = f
            .root
            .elements
            .iter()
            .map(|e| {
                (
                    e.name.clone(),
                    e.arg.clone(),
                    e.value("@label").map(str::to_string),
                )
            })
            .collect();
        let l = |s: &str| Some(s.to_string());
        assert_eq!(
            got,
            [
                ("label".into(), "@x".into(), None),
                ("source".into(), "".into(), l("@worker 0")),
                ("label".into(), "@worker 0".into(), None),
                ("source".into(), "".into(), l("@worker 1-3")),
                ("source".into(), "".into(), l("@x")),
                ("label".into(), "@worker 1-3".into(), None),
            ]
        );
        assert_eq!(f.sections, ["0", "1-3"]);
    }

    #[test]
    fn top_level_sources_follow_the_one_section_covering_every_worker() {
        let root = parse("<source>\n  @type sample\n</source>\n<worker 0-1>\n<match **>\n  @type null\n</match>\n</worker>\n");
        let f = flatten(&root, 2).unwrap();
        assert_eq!(f.root.elements[0].value("@label"), Some("@worker 0-1"));
        assert_eq!(f.root.elements[1].arg, "@worker 0-1");
    }

    // Fluentd reads the argument by `split("-")` and `String#to_i` (differential cases
    // config-worker-arg-*).
    #[test]
    fn arguments_read_as_fluentd_reads_them() {
        for (arg, ids, range) in [
            ("a", vec![0], false),
            ("1-", vec![1], false),
            ("1--", vec![1], false),
            ("-1", vec![0, 1], true),
            ("0 - 1", vec![0, 1], true),
            ("0-1-2", vec![0], false),
            ("+1", vec![1], false),
            (" 1", vec![1], false),
            ("01", vec![1], false),
            ("0x1", vec![0], false),
            ("-", vec![0], false),
            ("--1", vec![0], false),
        ] {
            assert_eq!(worker_ids(arg, 1), Ok((ids, range)), "{arg:?}");
        }
        assert_eq!(ruby_to_i("1_0"), 10);
        assert_eq!(ruby_to_i("1__0"), 1);
        assert_eq!(ruby_to_i("_1"), 0);
        assert_eq!(ruby_to_i("-3x"), -3);
    }

    #[test]
    fn plain_sections_may_share_ids_without_rules() {
        let root = parse("<worker 0-1>\n<source>\n  @type sample\n</source>\n</worker>\n<worker 1>\n<source>\n  @type sample\n</source>\n</worker>\n<worker 1>\n<source>\n  @type sample\n</source>\n</worker>\n");
        let f = flatten(&root, 2).unwrap();
        assert_eq!(f.sections, ["0-1", "1", "1"]);
        assert_eq!(f.root.elements.len(), 3);
    }

    #[test]
    fn fluentd_checks() {
        let err =
            |text: &str, workers: i64| flatten(&parse(text), workers).err().unwrap().to_string();
        let e = err("<worker>\n</worker>\n", 2);
        assert!(e.contains("w.conf:1:1: missing worker id"), "{e}");
        let e = err("<worker 2>\n</worker>\n", 2);
        assert!(e.contains("worker id 2 specified by <worker> directive is not allowed. Available worker id is between 0 and 1"), "{e}");
        let e = err("<worker 3-1>\n</worker>\n", 4);
        assert!(
            e.contains("greater first_worker_id<3> than last_worker_id<1>"),
            "{e}"
        );
        let e = err("<worker 0-1>\n</worker>\n<worker 1-2>\n</worker>\n", 4);
        assert!(
            e.contains("w.conf:3:1: worker id 1 is already claimed"),
            "{e}"
        );
        assert!(e.contains("available worker ids: [2, 3]"), "{e}");
        let e = err("<worker 0>\n<system>\n</system>\n</worker>\n", 1);
        assert!(
            e.contains("w.conf:2:1: <worker> section cannot have <system> directive"),
            "{e}"
        );
        let e = err("<worker -1-2>\n</worker>\n", 2);
        assert!(e.contains("worker id -1 specified"), "{e}");
        let e = err("<worker 1_0>\n</worker>\n", 2);
        assert!(e.contains("worker id 10 specified"), "{e}");
        let e = err(
            "<worker 0>\n<match **>\n  @type null\n</match>\n</worker>\n<worker 0-1>\n</worker>\n",
            2,
        );
        assert!(
            e.contains("w.conf:6:1: <worker 0-1> names worker ids [0]"),
            "{e}"
        );
        let e = err("<source>\n  @type sample\n</source>\n<worker 0>\n<match **>\n  @type null\n</match>\n</worker>\n", 2);
        assert!(
            e.contains("w.conf:1:1: this top-level <source> runs in every Fluentd worker"),
            "{e}"
        );
        let e = err("<match **>\n  @type null\n</match>\n<worker 0>\n<match **>\n  @type null\n</match>\n</worker>\n", 1);
        assert!(
            e.contains("w.conf:4:1: <worker 0> has its own <filter>/<match> while the top level"),
            "{e}"
        );
    }
}
