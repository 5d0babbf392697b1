//! Reference §7.3 cases 25–28: type coercion.

use logferry_config::types;

#[test]
fn case25_size() {
    for (s, want) in [
        ("8m", 8388608u64),
        ("8M", 8388608),
        ("8MB", 8388608),
        ("1.5m", 5242880),
        ("256k", 262144),
        ("abc", 0),
        ("1t", 1099511627776),
        ("2g", 2147483648),
        ("1g5k", 5120),
        ("1000", 1000),
    ] {
        assert_eq!(types::size(s), want, "{s}");
    }
}

#[test]
fn case26_time() {
    for (s, want) in [
        ("60s", 60.0),
        ("1m", 60.0),
        ("1h", 3600.0),
        ("1d", 86400.0),
        ("0.5", 0.5),
        ("10ms", 600.0),
        ("1.5s", 5.0),
        ("2h30m", 1800.0),
        ("30M", 30.0),
        ("45", 45.0),
    ] {
        assert_eq!(types::time(s), want, "{s}");
    }
}

#[test]
fn case27_bool() {
    for s in ["true", "yes", "", "# only a comment"] {
        assert_eq!(types::bool(s), Some(true), "{s:?}");
    }
    for s in ["false", "no"] {
        assert_eq!(types::bool(s), Some(false), "{s:?}");
    }
    for s in ["on", "TRUE", "1", "off", "True"] {
        assert_eq!(types::bool(s), None, "{s:?}");
    }
}

#[test]
fn case28_array_and_hash() {
    assert_eq!(types::array("a,b , c").unwrap(), ["a", "b", "c"]);
    assert_eq!(
        types::array(r#"["x", 2, true]"#).unwrap(),
        ["x", "2", "true"]
    );
    assert_eq!(types::array("single").unwrap(), ["single"]);
    let h = types::hash("k1:v1, k2:v2:x").unwrap();
    assert_eq!(
        h,
        [
            ("k1".to_string(), "v1".to_string()),
            ("k2".to_string(), "v2:x".to_string())
        ]
    );
    let h = types::hash(r#"{"b": 1, "a": "s"}"#).unwrap();
    assert_eq!(
        h,
        [
            ("b".to_string(), "1".to_string()),
            ("a".to_string(), "s".to_string())
        ]
    );
}

#[test]
fn integer_float_regexp() {
    assert_eq!(types::integer("42abc"), 42);
    assert_eq!(types::integer("abc"), 0);
    assert_eq!(types::integer("-7"), -7);
    assert_eq!(types::float("3.25"), 3.25);
    assert_eq!(types::float("1e3"), 1000.0);
    assert_eq!(types::float("x"), 0.0);
    assert_eq!(
        types::regexp("/^(?<a>\\d+)$/i"),
        ("^(?<a>\\d+)$".to_string(), "i".to_string())
    );
    assert_eq!(types::regexp("^foo"), ("^foo".to_string(), String::new()));
}
