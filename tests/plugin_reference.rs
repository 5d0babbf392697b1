//! The plugin reference and the JSON schema come from the parameter declarations: docs/plugins.md
//! must be what `logferry plugins --markdown` prints, and the shipped configs (as
//! `--dry-run --json` prints them) must validate against `logferry plugins --json-schema`.

mod support;

use std::process::Command;

use support::*;

fn run(args: &[&str]) -> String {
    let out = Command::new(bin())
        .args(args)
        .env("FORWARD_SHARED_KEY", "ci-test-key")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "logferry {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// docs/plugins.md cannot drift from the code.
#[test]
fn committed_reference_is_the_generated_one() {
    let generated = run(&["plugins", "--markdown"]);
    let path = repo_root().join("docs/plugins.md");
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "{} is not what the declarations say: regenerate it with\n  cargo run -p logferry -- plugins --markdown > docs/plugins.md",
        path.display()
    );
}

/// Every plugin the registry knows appears in the listing, with its declared parameters.
#[test]
fn listing_shows_declared_parameters() {
    let text = run(&["plugins", "forward"]);
    assert!(
        text.contains("input forward") && text.contains("output forward"),
        "{text}"
    );
    assert!(text.contains("  port integer = \"24224\""), "{text}");
    assert!(text.contains("  send_timeout time = \"60\""), "{text}");
}

/// Every plugin is declared: new plugins start on the declarations (the recipe is in
/// `logferry_config::params`).
#[test]
fn every_plugin_is_declared() {
    let text = run(&["plugins"]);
    let lines: Vec<&str> = text.lines().collect();
    let undeclared: Vec<&str> = lines
        .windows(2)
        .filter(|w| w[1].contains("(parameters not declared yet)"))
        .map(|w| w[0])
        .collect();
    assert!(
        undeclared.is_empty(),
        "plugins registered without a parameter declaration: {undeclared:?}"
    );
}

/// Validate `doc` against `schema` with Python's jsonschema (installed by .ci/install-deps.sh);
/// the messages of the errors found.
fn validate(schema: &str, doc: &str) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let (s, d) = (dir.path().join("schema.json"), dir.path().join("doc.json"));
    std::fs::write(&s, schema).unwrap();
    std::fs::write(&d, doc).unwrap();
    let script = "import json, sys, jsonschema\n\
        v = jsonschema.Draft202012Validator(json.load(open(sys.argv[1])))\n\
        for e in v.iter_errors(json.load(open(sys.argv[2]))):\n    print(e.json_path, e.message)\n";
    let out = Command::new("python3")
        .args(["-c", script])
        .arg(&s)
        .arg(&d)
        .output()
        .expect("python3 (with jsonschema, see .ci/install-deps.sh)");
    assert!(
        out.status.success(),
        "jsonschema: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect()
}

/// The shipped configs validate against the schema; a misspelt parameter does not.
#[test]
fn shipped_configs_validate_against_the_schema() {
    let schema = run(&["plugins", "--json-schema"]);
    let dir = repo_root().join("conf");
    let mut n = 0;
    for e in std::fs::read_dir(&dir).unwrap() {
        let path = e.unwrap().path();
        if path.extension().and_then(|x| x.to_str()) != Some("conf") {
            continue;
        }
        let json = run(&["-c", path.to_str().unwrap(), "--dry-run", "--json"]);
        let errors = validate(&schema, &json);
        assert!(errors.is_empty(), "{}: {errors:?}", path.display());
        n += 1;
    }
    assert!(n >= 1);

    let tmp = tempfile::tempdir().unwrap();
    let conf = tmp.path().join("fluent.conf");
    std::fs::write(
        &conf,
        "<source>\n  @type forward\n  bnid 127.0.0.1\n</source>\n<match **>\n  @type null\n</match>\n",
    )
    .unwrap();
    let out = Command::new(bin())
        .args(["-c", conf.to_str().unwrap(), "--dry-run"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("parameter 'bnid'") && stderr.contains("did you mean 'bind'?"),
        "{stderr}"
    );
    let json = run(&["-c", conf.to_str().unwrap(), "--dry-run", "--json"]);
    let errors = validate(&schema, &json);
    assert!(
        errors.len() == 1 && errors[0].contains("'bnid' was unexpected"),
        "{errors:?}"
    );
}

/// `--dry-run` shows the declared defaults a config leaves unset, and masks declared secrets.
#[test]
fn dry_run_shows_defaults_and_masks_declared_secrets() {
    let tmp = tempfile::tempdir().unwrap();
    let conf = tmp.path().join("fluent.conf");
    std::fs::write(
        &conf,
        "<match **>\n  @type forward\n  <server>\n    host 127.0.0.1\n    password pw1\n  </server>\n  <buffer>\n    flush_interval 5s\n  </buffer>\n</match>\n",
    )
    .unwrap();
    let text = run(&["-c", conf.to_str().unwrap(), "--dry-run"]);
    assert!(text.contains("# default: send_timeout 60"), "{text}");
    assert!(text.contains("# default: port 24224"), "{text}");
    assert!(text.contains("# default: retry_timeout 72h"), "{text}");
    assert!(!text.contains("# default: flush_interval"), "{text}");
    assert!(
        text.contains("password xxxxxx") && !text.contains("pw1"),
        "{text}"
    );
}
