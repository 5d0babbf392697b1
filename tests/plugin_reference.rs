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
    misspelt_is_caught(&schema, &conf, "bnid", "bind");
}

/// `--dry-run` of `conf` warns about `wrong` with a "did you mean `right`", and validating its
/// JSON against `schema` finds exactly that parameter.
fn misspelt_is_caught(schema: &str, conf: &std::path::Path, wrong: &str, right: &str) {
    let (ok, stderr) = dry_run(conf);
    assert!(
        ok && stderr.contains(&format!("parameter '{wrong}'"))
            && stderr.contains(&format!("did you mean '{right}'?")),
        "{stderr}"
    );
    let json = run(&["-c", conf.to_str().unwrap(), "--dry-run", "--json"]);
    let errors = validate(schema, &json);
    assert!(
        errors.len() == 1 && errors[0].contains(&format!("'{wrong}' was unexpected")),
        "{errors:?}"
    );
}

/// `--dry-run` of `conf`: did it succeed, and its stderr.
fn dry_run(conf: &std::path::Path) -> (bool, String) {
    let out = Command::new(bin())
        .args(["-c", conf.to_str().unwrap(), "--dry-run"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    (out.status.success(), stderr)
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

/// `<system>` is declared like a plugin: listed, in the schema (a misspelt parameter fails
/// validation and gets a "did you mean"), and `--dry-run` shows its defaults.
#[test]
fn system_section_is_declared() {
    let text = run(&["plugins", "system"]);
    assert!(text.contains("section system"), "{text}");
    assert!(text.contains("  log_level enum = \"info\""), "{text}");
    assert!(text.contains("  workers integer = \"1\""), "{text}");
    assert!(text.contains("  <log>"), "{text}");

    let schema = run(&["plugins", "--json-schema"]);
    let tmp = tempfile::tempdir().unwrap();
    let conf = tmp.path().join("fluent.conf");
    let null = "<match **>\n  @type null\n</match>\n";
    std::fs::write(
        &conf,
        format!("<system>\n  log_level debug\n  workers 2\n  <log>\n    format json\n  </log>\n</system>\n{null}"),
    )
    .unwrap();
    let json = run(&["-c", conf.to_str().unwrap(), "--dry-run", "--json"]);
    assert!(validate(&schema, &json).is_empty(), "{json}");
    let text = run(&["-c", conf.to_str().unwrap(), "--dry-run"]);
    assert!(text.contains("# default: enable_get_dump false"), "{text}");
    assert!(!text.contains("# default: workers"), "{text}");

    std::fs::write(&conf, format!("<system>\n  wrokers 2\n</system>\n{null}")).unwrap();
    misspelt_is_caught(&schema, &conf, "wrokers", "workers");

    // A value outside the declared enum fails at start-up, with where.
    std::fs::write(
        &conf,
        format!("<system>\n  log_level loud\n</system>\n{null}"),
    )
    .unwrap();
    let (ok, stderr) = dry_run(&conf);
    assert!(
        !ok && stderr.contains("fluent.conf:2") && stderr.contains("'loud'"),
        "{stderr}"
    );

    // A second `<system>` is refused, as Fluentd refuses it ("<system> is duplicated").
    std::fs::write(
        &conf,
        format!(
            "<system>
  log_level info
</system>
<system>
  log_level warn
</system>
{null}"
        ),
    )
    .unwrap();
    let (ok, stderr) = dry_run(&conf);
    assert!(
        !ok && stderr.contains("fluent.conf:4")
            && stderr.contains("<system> is duplicated")
            && stderr.contains("fluent.conf:1"),
        "{stderr}"
    );
}

/// out_s3 is declared: its parameters are listed, `--dry-run` shows its defaults and masks its
/// secrets (its own and the shared AWS credentials').
#[test]
fn s3_is_declared() {
    let text = run(&["plugins", "s3"]);
    assert!(text.contains("  s3_bucket string (required)"), "{text}");
    assert!(text.contains("  store_as string = \"gzip\""), "{text}");
    assert!(
        text.contains("  multipart_threshold size = \"64m\""),
        "{text}"
    );
    assert!(text.contains("  aws_sec_key string"), "{text}");
    assert!(!text.contains("  region string"), "{text}");
    let tmp = tempfile::tempdir().unwrap();
    let conf = tmp.path().join("fluent.conf");
    std::fs::write(
        &conf,
        "<match **>\n  @type s3\n  s3_bucket b\n  aws_key_id AKID\n  aws_sec_key sek1\n  sse_customer_key ck1\n</match>\n",
    )
    .unwrap();
    let text = run(&["-c", conf.to_str().unwrap(), "--dry-run"]);
    assert!(text.contains("# default: store_as gzip"), "{text}");
    assert!(text.contains("# default: check_object true"), "{text}");
    assert!(
        !text.contains("sek1") && !text.contains("ck1") && !text.contains("AKID"),
        "{text}"
    );
}
