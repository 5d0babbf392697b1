//! Hide secrets when printing the resolved config.

use logferry_config::Element;

/// A copy of the tree with secret values replaced by `xxxxxx`.
pub fn masked(el: &Element) -> Element {
    let mut out = el.clone();
    mask(&mut out);
    out
}

fn mask(el: &mut Element) {
    for p in &mut el.params {
        if logferry_core::section::is_secret(&p.key) {
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
            "<source>\n@type forward\n<security>\nshared_key k\nself_hostname h\n</security>\n</source>\n<match **>\n@type s3\naws_key_id AKIAEXAMPLE\naws_sec_key sss\n</match>\n",
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
