//! Hide secrets when printing the resolved config.

use logferry_config::params::Declarations;
use logferry_config::Element;

/// A copy of the tree with secret values replaced by `xxxxxx`: the parameters the plugins declare
/// secret, and for plugins not declared yet, those named like secrets.
pub fn masked(el: &Element, decls: &dyn Declarations) -> Element {
    logferry_config::resolve::masked(el, decls)
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
        let text = masked(&root, &crate::registry()).dump();
        assert!(
            text.contains("xxxxxx")
                && !text.contains("shared_key k")
                && text.contains("self_hostname h"),
            "{text}"
        );
    }
}
