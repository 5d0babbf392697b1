//! Hide secrets when printing the resolved config.

use logferry_config::Element;

/// Parameter names whose values are secrets, as Fluentd marks them `secret: true`.
const SECRET_WORDS: &[&str] = &[
    "password",
    "shared_key",
    "secret",
    "sec_key",
    "passphrase",
    "token",
];

/// A copy of the tree with secret values replaced by `xxxxxx`.
pub fn masked(el: &Element) -> Element {
    let mut out = el.clone();
    mask(&mut out);
    out
}

fn mask(el: &mut Element) {
    for p in &mut el.params {
        if SECRET_WORDS.iter().any(|w| p.key.contains(w)) {
            p.value = "xxxxxx".to_string();
        }
    }
    for c in &mut el.elements {
        mask(c);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_masked() {
        let root = logferry_config::parse_str(
            "<source>\n@type forward\n<security>\nshared_key k\nself_hostname h\n</security>\n</source>\n",
            "t.conf",
            std::path::Path::new("."),
        )
        .unwrap();
        let text = masked(&root).dump();
        assert!(
            text.contains("xxxxxx")
                && !text.contains("shared_key k")
                && text.contains("self_hostname h"),
            "{text}"
        );
    }
}
