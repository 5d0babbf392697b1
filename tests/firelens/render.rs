//! The Fluentd config the ECS agent generates for a FireLens log router
//! (`firelensConfiguration.type: fluentd`), rendered exactly as amazon-ecs-agent does it:
//! agent/taskresource/firelens/firelensconfig_unix.go (`generateConfig`, `addOutputSection`)
//! fills awslabs/go-config-generator-for-fluentd-and-fluentbit's `fluentDConfigTemplate`
//! (fluentd-template.go). Go's template `range` over a map visits the keys in sorted order,
//! hence the BTreeMaps.
#![allow(dead_code)]

use std::collections::BTreeMap;

/// One task's FireLens settings.
pub struct Firelens {
    /// `bridge`, `awsvpc` or `host`/`default` (no forward input then).
    pub network_mode: &'static str,
    /// The unix socket (`/var/run/fluent.sock` in the agent).
    pub socket: String,
    /// The forward port (`24224` in the agent).
    pub port: String,
    /// ECS metadata (`enable-ecs-log-metadata`, on by default).
    pub metadata: Option<Metadata>,
    /// `config-file-type` `file` or `s3`: the path @included after the filters.
    pub external: Option<String>,
    /// Per container: its name and its `logConfiguration.options`.
    pub containers: Vec<(String, BTreeMap<String, String>)>,
}

/// The fields the agent adds to every record.
pub struct Metadata {
    /// `ec2_instance_id` (empty on Fargate: not added).
    pub ec2_instance_id: String,
    /// `ecs_cluster`.
    pub cluster: String,
    /// `ecs_task_arn`.
    pub task_arn: String,
    /// `ecs_task_definition`.
    pub task_definition: String,
}

/// The generated config text.
pub fn render(f: &Firelens) -> String {
    let mut inputs: Vec<(String, BTreeMap<String, String>)> = vec![(
        "unix".into(),
        BTreeMap::from([("path".to_string(), f.socket.clone())]),
    )];
    let bind = match f.network_mode {
        "bridge" => Some("0.0.0.0"),
        "awsvpc" => Some("127.0.0.1"),
        _ => None,
    };
    if let Some(bind) = bind {
        inputs.push((
            "forward".into(),
            BTreeMap::from([
                ("port".to_string(), f.port.clone()),
                ("bind".to_string(), bind.to_string()),
            ]),
        ));
    }
    let mut out = String::new();
    for (name, opts) in &inputs {
        out.push_str(&format!("\n<source>\n    @type {name}"));
        for (k, v) in opts {
            out.push_str(&format!("\n    {k} {v}"));
        }
        out.push_str("\n</source>\n");
    }
    let mut includes = Vec::new();
    let mut excludes = Vec::new();
    let mut outputs = Vec::new();
    for (container, options) in &f.containers {
        let tag = format!("{container}-firelens**");
        let mut opts = BTreeMap::new();
        for (k, v) in options {
            match k.as_str() {
                "@type" => {}
                "include-pattern" => includes.push((tag.clone(), v.clone())),
                "exclude-pattern" => excludes.push((tag.clone(), v.clone())),
                _ => {
                    opts.insert(k.clone(), v.clone());
                }
            }
        }
        if let Some(t) = options.get("@type") {
            outputs.push((tag, t.clone(), opts));
        }
    }
    for (tag, re) in &includes {
        out.push_str(&format!("\n<filter {tag}>\n    @type  grep\n    <regexp>\n        key log\n        pattern {re}\n    </regexp>\n</filter>\n"));
    }
    for (tag, re) in &excludes {
        out.push_str(&format!("\n<filter {tag}>\n    @type  grep\n    <exclude>\n        key log\n        pattern {re}\n    </exclude>\n</filter>\n"));
    }
    if let Some(m) = &f.metadata {
        let mut fields = BTreeMap::from([
            ("ecs_cluster", m.cluster.clone()),
            ("ecs_task_arn", m.task_arn.clone()),
            ("ecs_task_definition", m.task_definition.clone()),
        ]);
        if !m.ec2_instance_id.is_empty() {
            fields.insert("ec2_instance_id", m.ec2_instance_id.clone());
        }
        out.push_str("\n<filter **>\n    @type record_transformer\n    <record>");
        for (k, v) in fields {
            out.push_str(&format!("\n        {k} {v}"));
        }
        out.push_str("\n    </record>\n</filter>\n");
    }
    if let Some(path) = &f.external {
        out.push_str(&format!("\n@include {path}\n"));
    }
    for (tag, ty, opts) in &outputs {
        out.push_str(&format!("\n<match {tag}>\n    @type {ty}"));
        for (k, v) in opts {
            out.push_str(&format!("\n    {k} {v}"));
        }
        out.push_str("\n</match>\n");
    }
    out
}
