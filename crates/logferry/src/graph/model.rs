//! The routing graph of a config: sources, one cluster per router (the root and each `<label>`)
//! holding its filters and matches in file order, and the edges events can take.
//!
//! Inside a router, tag routing is a decision list: an event passes every `<filter>` whose
//! pattern matches its tag and stops at the first `<match>` whose pattern matches. The graph shows
//! that list as a chain: the router's entry, then each rule; a `<match>` continues the chain for
//! the other tags only. Edges out of a router: `rewrite_tag_filter` (one per target, with the new
//! tags), `relabel` and copy's `<store>`s, concat's `timeout_label`, a source's `@label`, and the
//! dashed edges to `<label @ERROR>` (error events of filters, failed emits of outputs) when the
//! config has that label.

use logferry_config::Element;

/// What a node is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    /// A `<source>`.
    Source,
    /// The entry of a router (root or label).
    Entry,
    /// A `<filter>`.
    Filter,
    /// A `<match>`.
    Match,
    /// A `<store>` of copy.
    Store,
}

/// How an edge is drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    /// Events flow.
    Solid,
    /// Events not matched by a `<match>` go on to the next rule.
    Dotted,
    /// Errors to `@ERROR`.
    Dashed,
}

/// A node.
#[derive(Clone, Debug)]
pub struct Node {
    /// Its lines of text.
    pub lines: Vec<String>,
    /// Its kind.
    pub shape: Shape,
    /// The cluster (router) it is drawn in, if any.
    pub cluster: Option<usize>,
}

/// An edge.
#[derive(Clone, Debug, PartialEq)]
pub struct Edge {
    /// From node.
    pub from: usize,
    /// To node.
    pub to: usize,
    /// Its text (may be empty).
    pub text: String,
    /// Its style.
    pub style: Style,
}

/// The graph.
#[derive(Debug, Default)]
pub struct Graph {
    /// Router names (`@ROOT`, then the labels in file order).
    pub clusters: Vec<String>,
    /// Nodes.
    pub nodes: Vec<Node>,
    /// Edges.
    pub edges: Vec<Edge>,
}

/// Filter types that raise error events (sent to `@ERROR`).
const ERROR_FILTERS: &[&str] = &["parser", "record_transformer", "concat"];
/// Source types that emit no events.
const NO_EVENTS: &[&str] = &["monitor_agent", "prometheus"];
/// Output types that route instead of delivering.
const ROUTING: &[&str] = &["relabel", "rewrite_tag_filter", "copy", "roundrobin"];

fn ty(el: &Element) -> String {
    el.plugin_type()
        .map(|p| p.value.clone())
        .unwrap_or_default()
}

fn name_line(el: &Element) -> String {
    match el.value("@id") {
        Some(id) => format!("{} · {id}", ty(el)),
        None => ty(el),
    }
}

struct Builder {
    g: Graph,
    /// Entry node of each cluster.
    entries: Vec<usize>,
    /// Dashed edges to @ERROR, added once every cluster exists.
    errors: Vec<usize>,
    /// Edges to a label by name, resolved at the end: (from, label, text, style).
    pending: Vec<(usize, String, String, Style)>,
}

impl Builder {
    fn node(&mut self, lines: Vec<String>, shape: Shape, cluster: Option<usize>) -> usize {
        self.g.nodes.push(Node {
            lines,
            shape,
            cluster,
        });
        self.g.nodes.len() - 1
    }

    fn edge(&mut self, from: usize, to: usize, text: impl Into<String>, style: Style) {
        self.g.edges.push(Edge {
            from,
            to,
            text: text.into(),
            style,
        });
    }

    fn edge_to_label(&mut self, from: usize, label: &str, text: impl Into<String>) {
        self.pending
            .push((from, label.to_string(), text.into(), Style::Solid));
    }

    fn cluster_of(&self, label: &str) -> Option<usize> {
        let label = if label == "@ROOT" { "@ROOT" } else { label };
        self.g.clusters.iter().position(|c| c == label)
    }

    /// The rules of one router, chained from its entry.
    fn rules(&mut self, cluster: usize, elements: &[Element]) {
        let mut prev = self.entries[cluster];
        let mut prev_style = Style::Solid;
        let mut prev_text = String::new();
        for el in elements {
            let n = match el.name.as_str() {
                "filter" => {
                    let n = self.node(
                        vec![format!("filter {}", el.arg.trim()), name_line(el)],
                        Shape::Filter,
                        Some(cluster),
                    );
                    let t = ty(el);
                    if ERROR_FILTERS.contains(&t.as_str()) {
                        self.errors.push(n);
                    }
                    if let Some(l) = el.value("timeout_label") {
                        self.edge_to_label(n, l, "timeout");
                    }
                    n
                }
                "match" => {
                    let n = self.node(
                        vec![format!("match {}", el.arg.trim()), name_line(el)],
                        Shape::Match,
                        Some(cluster),
                    );
                    self.output(n, el, cluster);
                    n
                }
                _ => continue,
            };
            self.edge(prev, n, std::mem::take(&mut prev_text), prev_style);
            prev = n;
            (prev_style, prev_text) = if el.name == "match" {
                (Style::Dotted, "other tags".to_string())
            } else {
                (Style::Solid, String::new())
            };
        }
    }

    /// The edges out of an output node `n` declared in `cluster`.
    fn output(&mut self, n: usize, el: &Element, cluster: usize) {
        let own = self.g.clusters[cluster].clone();
        match ty(el).as_str() {
            "relabel" => {
                if let Some(l) = el.value("@label") {
                    self.edge_to_label(n, l, "relabel");
                }
            }
            "rewrite_tag_filter" => {
                // One edge per target router, with the tags of the rules that go there.
                let default = el.value("@label").unwrap_or(&own).to_string();
                let mut targets: Vec<(String, Vec<String>)> = Vec::new();
                for r in el.elements_named("rule") {
                    let to = r.value("label").unwrap_or(&default).to_string();
                    let tag = r.value("tag").unwrap_or("").to_string();
                    match targets.iter_mut().find(|(t, _)| *t == to) {
                        Some((_, tags)) => tags.push(tag),
                        None => targets.push((to, vec![tag])),
                    }
                }
                for (to, tags) in targets {
                    self.edge_to_label(n, &to, tags.join(", "));
                }
            }
            "copy" | "roundrobin" => {
                for st in el.elements_named("store") {
                    let s = self.node(
                        vec!["store".into(), name_line(st)],
                        Shape::Store,
                        Some(cluster),
                    );
                    self.edge(n, s, "", Style::Solid);
                    self.output(s, st, cluster);
                }
            }
            _ => self.errors.push(n),
        }
        if !ROUTING.contains(&ty(el).as_str()) {
            if let Some(l) = el.value("@label") {
                self.edge_to_label(n, l, "@label");
            }
        }
    }
}

/// Build the graph of a parsed config (after `<worker>` sections were flattened).
pub fn build(root: &Element) -> Graph {
    let mut b = Builder {
        g: Graph::default(),
        entries: Vec::new(),
        errors: Vec::new(),
        pending: Vec::new(),
    };
    b.g.clusters.push("@ROOT".into());
    for el in root.elements_named("label") {
        b.g.clusters.push(el.arg.trim().to_string());
    }
    for c in 0..b.g.clusters.len() {
        let name = b.g.clusters[c].clone();
        let e = b.node(vec![name], Shape::Entry, Some(c));
        b.entries.push(e);
    }
    for el in root.elements_named("source") {
        let mut lines = vec![name_line(el)];
        if let Some(p) = el.value("port") {
            lines.push(format!("{}:{p}", el.value("bind").unwrap_or("0.0.0.0")));
        }
        let n = b.node(lines, Shape::Source, None);
        // The monitor sources serve HTTP and emit no events.
        if !NO_EVENTS.contains(&ty(el).as_str()) {
            let label = el.value("@label").unwrap_or("@ROOT").to_string();
            let text = el.value("tag").unwrap_or("").to_string();
            b.pending.push((n, label, text, Style::Solid));
        }
    }
    b.rules(0, &root.elements);
    let labels: Vec<&Element> = root.elements_named("label").collect();
    for (i, el) in labels.iter().enumerate() {
        b.rules(i + 1, &el.elements);
    }
    for (from, label, text, style) in std::mem::take(&mut b.pending) {
        if let Some(c) = b.cluster_of(&label) {
            let to = b.entries[c];
            b.edge(from, to, text, style);
        }
    }
    if let Some(err) = b.cluster_of("@ERROR") {
        let to = b.entries[err];
        for from in std::mem::take(&mut b.errors) {
            // What is already in @ERROR does not go there again.
            if b.g.nodes[from].cluster != Some(err) {
                b.edge(from, to, "errors", Style::Dashed);
            }
        }
    }
    b.g
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rewrite_relabel_copy_and_error_edges() {
        let root = logferry_config::parse_str(
            "<source>\n@type forward\n@id in\nport 24224\n</source>\n<match docker.**>\n@type rewrite_tag_filter\n<rule>\nkey k\npattern /x/\ntag web.$1\n</rule>\n<rule>\nkey k\npattern /y/\ntag other\nlabel @L\n</rule>\n</match>\n<filter web.**>\n@type parser\nkey_name log\n<parse>\n@type json\n</parse>\n</filter>\n<match web.**>\n@type copy\n<store>\n@type relabel\n@label @L\n</store>\n<store>\n@type stdout\n</store>\n</match>\n<label @L>\n<match **>\n@type null\n</match>\n</label>\n<label @ERROR>\n<match **>\n@type stdout\n</match>\n</label>\n",
            "t.conf",
            std::path::Path::new("."),
        )
        .unwrap();
        let g = build(&root);
        let text = |e: &Edge| {
            (
                g.nodes[e.from].lines[0].clone(),
                g.nodes[e.to].lines[0].clone(),
                e.text.clone(),
            )
        };
        let edges: Vec<_> = g.edges.iter().map(text).collect();
        let has =
            |a: &str, b: &str, t: &str| edges.iter().any(|(x, y, z)| x == a && y == b && z == t);
        assert!(has("forward · in", "@ROOT", ""), "{edges:?}");
        assert!(has("match docker.**", "@ROOT", "web.$1"), "{edges:?}");
        assert!(has("match docker.**", "@L", "other"), "{edges:?}");
        assert!(has("filter web.**", "@ERROR", "errors"), "{edges:?}");
        assert!(
            has("match docker.**", "filter web.**", "other tags"),
            "{edges:?}"
        );
        assert!(has("store", "@L", "relabel"), "{edges:?}");
        // Delivering outputs may fail into @ERROR; those inside @ERROR do not.
        assert!(has("store", "@ERROR", "errors"), "{edges:?}");
        assert_eq!(
            edges.iter().filter(|(_, y, _)| y == "@ERROR").count(),
            3,
            "{edges:?}"
        );
    }
}
