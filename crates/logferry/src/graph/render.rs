//! The graph as Graphviz DOT and as a Mermaid flowchart (which GitHub renders in Markdown).

use std::fmt::Write as _;

use super::model::{Graph, Shape, Style};

fn dot_escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

/// Graphviz DOT (`dot -Tsvg`).
pub fn dot(g: &Graph) -> String {
    let mut o = String::from("digraph logferry {\n  rankdir=LR;\n  node [fontname=\"Helvetica\", fontsize=10];\n  edge [fontname=\"Helvetica\", fontsize=9];\n");
    let node = |o: &mut String, i: usize, indent: &str| {
        let n = &g.nodes[i];
        let shape = match n.shape {
            Shape::Source => "shape=cds",
            Shape::Entry => "shape=circle",
            Shape::Filter => "shape=box, style=rounded",
            Shape::Match => "shape=box",
            Shape::Store => "shape=box, style=dashed",
        };
        let text: Vec<String> = n.lines.iter().map(|l| dot_escape(l)).collect();
        let _ = writeln!(o, "{indent}n{i} [{shape}, label=\"{}\"];", text.join("\\n"));
    };
    for i in (0..g.nodes.len()).filter(|&i| g.nodes[i].cluster.is_none()) {
        node(&mut o, i, "  ");
    }
    for (c, name) in g.clusters.iter().enumerate() {
        let _ = writeln!(
            o,
            "  subgraph cluster_{c} {{\n    label=\"{}\";",
            dot_escape(name)
        );
        for i in (0..g.nodes.len()).filter(|&i| g.nodes[i].cluster == Some(c)) {
            node(&mut o, i, "    ");
        }
        o.push_str("  }\n");
    }
    for e in &g.edges {
        let mut attrs = Vec::new();
        match e.style {
            Style::Solid => {}
            Style::Dotted => attrs.push("style=dotted".to_string()),
            Style::Dashed => attrs.push("style=dashed, color=red".to_string()),
        }
        if !e.text.is_empty() {
            attrs.push(format!("label=\"{}\"", dot_escape(&e.text)));
        }
        let attrs = if attrs.is_empty() {
            String::new()
        } else {
            format!(" [{}]", attrs.join(", "))
        };
        let _ = writeln!(o, "  n{} -> n{}{attrs};", e.from, e.to);
    }
    o.push_str("}\n");
    o
}

/// Text inside a quoted Mermaid label: quotes and angle brackets as entities.
fn mm_escape(s: &str) -> String {
    s.replace('"', "#quot;")
        .replace('<', "#lt;")
        .replace('>', "#gt;")
}

/// A Mermaid flowchart.
pub fn mermaid(g: &Graph) -> String {
    let mut o = String::from("flowchart LR\n");
    let node = |o: &mut String, i: usize, indent: &str| {
        let n = &g.nodes[i];
        let text: Vec<String> = n.lines.iter().map(|l| mm_escape(l)).collect();
        let text = text.join("<br/>");
        let (open, close) = match n.shape {
            Shape::Source => ("[/", "/]"),
            Shape::Entry => ("((", "))"),
            Shape::Filter => ("(", ")"),
            Shape::Match => ("[", "]"),
            Shape::Store => ("[[", "]]"),
        };
        let _ = writeln!(o, "{indent}n{i}{open}\"{text}\"{close}");
    };
    for i in (0..g.nodes.len()).filter(|&i| g.nodes[i].cluster.is_none()) {
        node(&mut o, i, "  ");
    }
    for (c, name) in g.clusters.iter().enumerate() {
        let _ = writeln!(o, "  subgraph c{c} [\"{}\"]", mm_escape(name));
        for i in (0..g.nodes.len()).filter(|&i| g.nodes[i].cluster == Some(c)) {
            node(&mut o, i, "    ");
        }
        o.push_str("  end\n");
    }
    for e in &g.edges {
        let arrow = match e.style {
            Style::Solid => "-->",
            Style::Dotted | Style::Dashed => "-.->",
        };
        if e.text.is_empty() {
            let _ = writeln!(o, "  n{} {arrow} n{}", e.from, e.to);
        } else {
            let _ = writeln!(
                o,
                "  n{} {arrow}|\"{}\"| n{}",
                e.from,
                mm_escape(&e.text),
                e.to
            );
        }
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::model::{Edge, Node};

    fn tiny() -> Graph {
        Graph {
            clusters: vec!["@ROOT".into()],
            nodes: vec![
                Node {
                    lines: vec!["forward".into()],
                    shape: Shape::Source,
                    cluster: None,
                },
                Node {
                    lines: vec!["@ROOT".into()],
                    shape: Shape::Entry,
                    cluster: Some(0),
                },
                Node {
                    lines: vec!["match \"a\" <b>".into()],
                    shape: Shape::Match,
                    cluster: Some(0),
                },
            ],
            edges: vec![
                Edge {
                    from: 0,
                    to: 1,
                    text: String::new(),
                    style: Style::Solid,
                },
                Edge {
                    from: 1,
                    to: 2,
                    text: "x".into(),
                    style: Style::Dashed,
                },
            ],
        }
    }

    #[test]
    fn dot_quotes_and_clusters() {
        let d = dot(&tiny());
        assert!(
            d.contains("subgraph cluster_0 {\n    label=\"@ROOT\";"),
            "{d}"
        );
        assert!(
            d.contains("n2 [shape=box, label=\"match \\\"a\\\" <b>\"];"),
            "{d}"
        );
        assert!(
            d.contains("n1 -> n2 [style=dashed, color=red, label=\"x\"];"),
            "{d}"
        );
    }

    #[test]
    fn mermaid_escapes_and_arrows() {
        let m = mermaid(&tiny());
        assert!(m.starts_with("flowchart LR\n  n0[/\"forward\"/]\n"), "{m}");
        assert!(m.contains("n2[\"match #quot;a#quot; #lt;b#gt;\"]"), "{m}");
        assert!(m.contains("n0 --> n1\n"), "{m}");
        assert!(m.contains("n1 -.->|\"x\"| n2\n"), "{m}");
    }
}
