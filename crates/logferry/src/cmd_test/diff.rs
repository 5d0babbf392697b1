//! Expected against captured events: an event matches when its record is equal (as JSON, key
//! order aside) and its tag and time are equal where the expectation gives them. A mismatch is
//! shown as a line diff: `-` expected and missing, `+` arrived and not expected.

use logferry_msgpack::EventTime;
use serde_json::Value as J;

use super::spec::ExpectedEvent;

/// An event a capture point received.
#[derive(Clone, Debug)]
pub struct Actual {
    /// Its tag.
    pub tag: String,
    /// Its time.
    pub time: EventTime,
    /// Its record as JSON.
    pub record: J,
}

fn matches(e: &ExpectedEvent, a: &Actual) -> bool {
    e.record == a.record
        && e.tag.as_ref().is_none_or(|t| *t == a.tag)
        && e.time.is_none_or(|t| t == a.time)
}

/// RFC 3339 in UTC, with the fraction only when there is one.
pub fn time_text(t: EventTime) -> String {
    match chrono::DateTime::from_timestamp(i64::from(t.sec), t.nsec) {
        Some(d) => d.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
        None => t.as_f64().to_string(),
    }
}

fn line(tag: Option<&str>, time: Option<EventTime>, record: &J) -> String {
    let mut o = serde_json::Map::new();
    if let Some(t) = tag {
        o.insert("tag".into(), J::String(t.into()));
    }
    if let Some(t) = time {
        o.insert("time".into(), J::String(time_text(t)));
    }
    o.insert("record".into(), record.clone());
    J::Object(o).to_string()
}

/// One captured event as a line, with every field.
pub fn actual_line(a: &Actual) -> String {
    line(Some(&a.tag), Some(a.time), &a.record)
}

/// None when `actual` is exactly `expected` (in order); else the diff lines.
pub fn diff(expected: &[ExpectedEvent], actual: &[Actual]) -> Option<Vec<String>> {
    if expected.len() == actual.len() && expected.iter().zip(actual).all(|(e, a)| matches(e, a)) {
        return None;
    }
    // Longest common subsequence; tests hold few events, the table stays small.
    let (n, m) = (expected.len(), actual.len());
    let mut lcs = vec![vec![0u32; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lcs[i][j] = if matches(&expected[i], &actual[j]) {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let mut out = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < n || j < m {
        if i < n && j < m && matches(&expected[i], &actual[j]) {
            out.push(format!("  {}", actual_line(&actual[j])));
            i += 1;
            j += 1;
        } else if i < n && (j == m || lcs[i + 1][j] >= lcs[i][j + 1]) {
            let e = &expected[i];
            out.push(format!("- {}", line(e.tag.as_deref(), e.time, &e.record)));
            i += 1;
        } else {
            out.push(format!("+ {}", actual_line(&actual[j])));
            j += 1;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn act(tag: &str, record: J) -> Actual {
        Actual {
            tag: tag.into(),
            time: EventTime::new(1, 0),
            record,
        }
    }

    #[test]
    fn equal_lists_have_no_diff_and_unset_fields_are_not_compared() {
        let e = vec![ExpectedEvent {
            tag: None,
            time: None,
            record: json!({"a": 1, "b": 2}),
        }];
        assert!(diff(&e, &[act("x", json!({"b": 2, "a": 1}))]).is_none());
    }

    #[test]
    fn a_changed_field_shows_as_minus_and_plus() {
        let e = vec![
            ExpectedEvent {
                tag: Some("x".into()),
                time: None,
                record: json!({"a": 1}),
            },
            ExpectedEvent {
                tag: None,
                time: None,
                record: json!({"a": 2}),
            },
        ];
        let d = diff(&e, &[act("x", json!({"a": 1})), act("x", json!({"a": 3}))]).unwrap();
        assert_eq!(
            d,
            [
                r#"  {"tag":"x","time":"1970-01-01T00:00:01Z","record":{"a":1}}"#,
                r#"- {"record":{"a":2}}"#,
                r#"+ {"tag":"x","time":"1970-01-01T00:00:01Z","record":{"a":3}}"#,
            ]
        );
    }
}
