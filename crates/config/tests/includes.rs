//! Reference §7.3 case 23 and `@include` behaviour, with real files.

use std::fs;
use std::path::Path;

use logferry_config::{parse_file, parse_file_with_warnings, parse_str};

fn write(dir: &Path, rel: &str, text: &str) {
    let path = dir.join(rel);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, text).unwrap();
}

fn match_args(root: &logferry_config::Element) -> Vec<&str> {
    root.elements.iter().map(|e| e.arg.as_str()).collect()
}

#[test]
fn case23_glob_sorted_and_inlined_in_place() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "conf.d/b.conf",
        "<match b>\n  @type null\n</match>\n",
    );
    write(
        dir.path(),
        "conf.d/a.conf",
        "<match a>\n  @type null\n</match>\n",
    );
    write(
        dir.path(),
        "conf.d/.hidden.conf",
        "<match hidden>\n</match>\n",
    );
    write(dir.path(), "conf.d/c.txt", "<match txt>\n</match>\n");
    write(
        dir.path(),
        "fluent.conf",
        "<match first>\n</match>\n@include conf.d/*.conf\n<match last>\n</match>\n",
    );
    let root = parse_file(&dir.path().join("fluent.conf")).unwrap();
    assert_eq!(match_args(&root), ["first", "a", "b", "last"]);
    let a = &root.elements[1];
    assert_eq!(
        a.pos.file.as_ref(),
        dir.path().join("conf.d/a.conf").display().to_string()
    );
    assert_eq!((a.pos.line, a.pos.col), (1, 1));
}

#[test]
fn nested_includes_are_relative_to_the_including_file() {
    let dir = tempfile::tempdir().unwrap();
    // sub/inner.conf includes "more/x.conf", which must resolve to sub/more/x.conf,
    // not to <top>/more/x.conf (which exists too, as a trap).
    write(dir.path(), "main.conf", "@include sub/inner.conf\n");
    write(
        dir.path(),
        "sub/inner.conf",
        "<match inner>\n</match>\n@include more/x.conf\n",
    );
    write(dir.path(), "sub/more/x.conf", "<match nested>\n</match>\n");
    write(dir.path(), "more/x.conf", "<match wrong>\n</match>\n");
    let root = parse_file(&dir.path().join("main.conf")).unwrap();
    assert_eq!(match_args(&root), ["inner", "nested"]);
}

#[test]
fn include_inside_a_section_adds_params_and_sections_there() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "buffer.conf",
        "flush_interval 5s\n<buffer tag>\n  @type memory\n</buffer>\n",
    );
    write(
        dir.path(),
        "fluent.conf",
        "<match app.**>\n  @type forward\n  @include buffer.conf\n  <server>\n    host h\n  </server>\n</match>\n",
    );
    let root = parse_file(&dir.path().join("fluent.conf")).unwrap();
    assert_eq!(root.elements.len(), 1);
    let m = &root.elements[0];
    assert_eq!(m.value("flush_interval"), Some("5s"));
    let names: Vec<_> = m.elements.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names, ["buffer", "server"]);
    assert_eq!(m.elements[0].value("@type"), Some("memory"));
    assert!(m.elements[0].pos.file.ends_with("buffer.conf"));
}

#[test]
fn deprecated_include_warns_and_works() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "x.conf", "k v\n");
    write(dir.path(), "fluent.conf", "include x.conf\n");
    let (root, warnings) = parse_file_with_warnings(&dir.path().join("fluent.conf")).unwrap();
    assert_eq!(root.value("k"), Some("v"));
    assert_eq!(warnings.len(), 1);
    assert!(warnings[0].message.contains("deprecated"));
    assert_eq!(warnings[0].pos.line, 1);
}

#[test]
fn braces_quoted_paths_and_parse_str_base_dir() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "in/z.conf", "<match z>\n</match>\n");
    write(dir.path(), "in/y.conf", "<match y>\n</match>\n");
    write(dir.path(), "in/x.conf", "<match x>\n</match>\n");
    write(dir.path(), "with space.conf", "<match space>\n</match>\n");
    let root = parse_str(
        "@include in/{z,x}.conf\n@include \"with space.conf\"\n",
        "inline",
        dir.path(),
    )
    .unwrap();
    assert_eq!(match_args(&root), ["x", "z", "space"]);
}

#[test]
fn missing_literal_file_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "fluent.conf",
        "# top\n<source>\n  @include   nope.conf\n</source>\n",
    );
    let e = parse_file(&dir.path().join("fluent.conf")).unwrap_err();
    let pos = e.pos.clone().unwrap();
    assert_eq!((pos.line, pos.col), (3, 14), "{e}");
    assert!(
        e.message.contains("nope.conf") && e.message.contains("not found"),
        "{e}"
    );
}

#[test]
fn glob_matching_nothing_only_warns() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "fluent.conf", "@include conf.d/*.conf\nk v\n");
    let (root, warnings) = parse_file_with_warnings(&dir.path().join("fluent.conf")).unwrap();
    assert_eq!(root.value("k"), Some("v"));
    assert!(warnings
        .iter()
        .any(|w| w.message.contains("matched no files")));
}

#[test]
fn http_include_is_not_supported() {
    let e = parse_str(
        "@include https://example.com/fluent.conf\n",
        "a.conf",
        Path::new("."),
    )
    .unwrap_err();
    assert!(e.message.contains("not supported"), "{e}");
    assert_eq!(e.pos.unwrap().col, 10);
}

#[test]
fn errors_in_included_files_carry_the_included_path() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "conf.d/bad.conf",
        "<match x>\n  k \"unterminated\n",
    );
    write(dir.path(), "fluent.conf", "@include conf.d/*.conf\n");
    let e = parse_file(&dir.path().join("fluent.conf")).unwrap_err();
    let pos = e.pos.clone().unwrap();
    assert_eq!(
        pos.file.as_ref(),
        dir.path().join("conf.d/bad.conf").display().to_string()
    );
    assert_eq!((pos.line, pos.col), (3, 1), "{e}");
    assert!(
        e.message.contains("started at") && e.message.contains("bad.conf:2:5"),
        "{e}"
    );
}

#[test]
fn sections_must_close_in_the_file_that_opens_them() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "close.conf", "k v\n</match>\n");
    write(
        dir.path(),
        "fluent.conf",
        "<match x>\n@include close.conf\n",
    );
    let e = parse_file(&dir.path().join("fluent.conf")).unwrap_err();
    assert!(
        e.message.contains("'</match>' has no matching opening tag"),
        "{e}"
    );
    assert_eq!(e.pos.unwrap().line, 2);
}

#[test]
fn include_cycles_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "a.conf", "@include b.conf\n");
    write(dir.path(), "b.conf", "@include a.conf\n");
    let e = parse_file(&dir.path().join("a.conf")).unwrap_err();
    assert!(e.message.contains("cycle"), "{e}");
}

#[test]
fn unreadable_top_level_file_has_no_position() {
    let dir = tempfile::tempdir().unwrap();
    let e = parse_file(&dir.path().join("absent.conf")).unwrap_err();
    assert!(e.pos.is_none());
    assert!(e.to_string().contains("absent.conf"), "{e}");
}

#[test]
fn invalid_utf8_is_reported_with_position() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("bin.conf"), b"k v\nab\xff\n").unwrap();
    let e = parse_file(&dir.path().join("bin.conf")).unwrap_err();
    let pos = e.pos.clone().unwrap();
    assert_eq!((pos.line, pos.col), (2, 3), "{e}");
}
