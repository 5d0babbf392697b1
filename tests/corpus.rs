//! The real-world Fluentd configs of `../shared/corpus/fluent-conf` (beside the clone) that
//! logferry accepts must stay accepted: each named one goes through `--dry-run` via the corpus's
//! own `run.sh` (same environment, fresh directory per config). The corpus is third-party and
//! never copied here: the configs are linked into a temporary directory. Skipped, with a message,
//! when the corpus is absent. docs/corpus.md records the full results and why the rest fail.

mod support;

use std::process::Command;

use support::*;

/// Every corpus config logferry starts (docs/corpus.md, 2026-12-05; 010 … 047 with `@type tail`).
/// 043 passes in logferry only: Fluentd refuses it for lack of the third-party multi_format
/// parser plugin.
const PASSING: &[&str] = &[
    "001-fluentd-docker-image-default",
    "002-firelens-generated-multiline",
    "003-firelens-generated-rewrite-tag",
    "004-fluentd-aggregator-image-v1",
    "006-sunakan-ecs-aggregator-s3",
    "007-sunakan-ecs-sidecar-forward",
    "008-firelens-custom-relabel-s3",
    "009-firelens-devkit-dummy",
    "010-ecs-fargate-sidecar-tail-s3",
    "012-td-agent-to-s3-minio",
    "015-govtech-tail-nginx-s3",
    "016-nginx-forward-s3-v012",
    "017-ejsohn-tail-forward-aggregator",
    "019-nlb-forwarder-dns-round-robin",
    "020-nlb-aggregator-stdout",
    "024-v012-aggregator-file",
    "028-evalai-forward-stdout",
    "032-docs-docker-logging-driver-demo",
    "033-docs-ha-forwarder",
    "034-oneuptime-forward-http",
    "035-ecs-forward-cloudwatch-v012",
    "039-logdriver-file-bad-buffer-params",
    "043-docker-multiformat-file-placeholders",
    "047-workers-forward-relay",
    "048-s3-plugin-docs-v1-example",
];

#[test]
fn corpus_configs_that_pass_stay_passing() {
    let corpus = repo_root().join("../shared/corpus/fluent-conf");
    let run_sh = corpus.join("run.sh");
    if !run_sh.is_file() {
        eprintln!(
            "SKIPPED: corpus not found at {} (CI has ../shared beside the clone)",
            corpus.display()
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    for name in PASSING {
        let file = corpus.join(format!("{name}.conf"));
        assert!(
            file.is_file(),
            "corpus config {} is missing",
            file.display()
        );
        std::os::unix::fs::symlink(&file, dir.path().join(format!("{name}.conf"))).unwrap();
    }
    let out = Command::new("bash")
        .arg(&run_sh)
        .arg(bin())
        .arg(dir.path())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "corpus configs regressed:\n{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains(&format!("{} passed, 0 failed", PASSING.len())),
        "{text}"
    );
}
