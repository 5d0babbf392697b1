//! Object keys: `s3_object_key_format` with fluent-plugin-s3's `%{…}` placeholders and the output
//! placeholders (`${tag}`, `${tag[N]}`, `${key}`, `${chunk_id}`, strftime on the chunk's time
//! slice), built in fluent-plugin-s3's order:
//!
//! 1. at start-up, `%{hostname}`; then `%{path}` and `%{file_extension}`;
//! 2. per chunk, the output placeholders (strftime of the whole string on the chunk's timekey);
//! 3. per attempt, `%{time_slice}`, `%{index}`, `%{hex_random}`, `%{uuid_flush}` and logferry's
//!    `%{chunk_id}` (with `check_object false`: `%{time_slice}`, `%{date_slice}`, `%{hms_slice}`,
//!    `%{hex_random}`, `%{uuid_flush}`, `%{chunk_id}`); **any other `%{…}` becomes empty**.

use std::future::Future;

use logferry_core::buffer::placeholders::time_slice_format;
use logferry_core::buffer::{BufferConfig, ChunkId, ChunkMeta, Template};
use logferry_core::timefmt::{TimeFormatter, Zone};
use logferry_core::EventTime;

/// logferry's default `s3_object_key_format`: unique across hosts (`%{hostname}`), processes and
/// flush threads (the 128-bit chunk id) without any HEAD request.
pub const DEFAULT_FORMAT: &str = "%{path}%{time_slice}_%{hostname}_%{chunk_id}.%{file_extension}";

/// logferry's default with `check_object false`: under `%{path}/`, as fluent-plugin-s3's
/// default then (`%{path}/%{time_slice}_%{hms_slice}.%{file_extension}`) puts it, so the objects
/// land under the same prefix (Athena and Glue partitions); unique as [`DEFAULT_FORMAT`] where
/// Fluentd's `%{hms_slice}` (the second of the upload) lets two chunks overwrite each other.
pub const DEFAULT_FORMAT_NO_CHECK: &str =
    "%{path}/%{time_slice}_%{hostname}_%{chunk_id}.%{file_extension}";

/// fluent-plugin-s3's default, for reference and tests: `%{index}` found by HEAD probing.
pub const FLUENTD_DEFAULT_FORMAT: &str = "%{path}%{time_slice}_%{index}.%{file_extension}";

/// Replace every `%{name}` (Ruby's `/%{[^}]+}/`) by `f(name)`; `None` keeps the text as written.
pub fn gsub_percent(s: &str, mut f: impl FnMut(&str) -> Option<String>) -> String {
    let mut out = String::with_capacity(s.len() + 32);
    let mut rest = s;
    while let Some(start) = rest.find("%{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        match after.find('}') {
            Some(end) if end > 0 => {
                let name = &after[..end];
                match f(name) {
                    Some(v) => out.push_str(&v),
                    None => {
                        out.push_str("%{");
                        out.push_str(name);
                        out.push('}');
                    }
                }
                rest = &after[end + 1..];
            }
            _ => {
                out.push_str("%{");
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// `index_format`: sprintf's `%d`, `%x`, `%X` with an optional zero-padded width (`%04d`), the
/// forms fluent-plugin-s3 accepts (`^%(0\d*)?[dxX]$`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IndexFormat {
    width: usize,
    radix: Radix,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Radix {
    Dec,
    Hex,
    HexUpper,
}

impl IndexFormat {
    /// Parse an `index_format` value.
    pub fn parse(s: &str) -> Result<IndexFormat, String> {
        let err = || {
            format!("index_format '{s}' should follow `%[flags][width]type`: `0` is the only supported flag, and is mandatory if width is specified; `d`, `x` and `X` are supported types")
        };
        let body = s.strip_prefix('%').ok_or_else(err)?;
        let (spec, ty) = body.split_at(body.len().checked_sub(1).ok_or_else(err)?);
        let radix = match ty {
            "d" => Radix::Dec,
            "x" => Radix::Hex,
            "X" => Radix::HexUpper,
            _ => return Err(err()),
        };
        let width = if spec.is_empty() {
            0
        } else {
            let digits = spec.strip_prefix('0').ok_or_else(err)?;
            if !digits.bytes().all(|b| b.is_ascii_digit()) {
                return Err(err());
            }
            if digits.is_empty() {
                0
            } else {
                digits.parse::<usize>().map_err(|_| err())?.min(64)
            }
        };
        Ok(IndexFormat { width, radix })
    }

    /// Format an index.
    pub fn format(&self, i: u64) -> String {
        let w = self.width;
        match self.radix {
            Radix::Dec => format!("{i:0w$}"),
            Radix::Hex => format!("{i:0w$x}"),
            Radix::HexUpper => format!("{i:0w$X}"),
        }
    }
}

/// What the key builder is configured with.
#[derive(Clone, Debug)]
pub struct KeyOptions<'a> {
    /// `s3_object_key_format` when given (`None`: logferry's [`DEFAULT_FORMAT`], or
    /// [`DEFAULT_FORMAT_NO_CHECK`] with `check_object false`).
    pub format: Option<&'a str>,
    /// `path`.
    pub path: &'a str,
    /// The extension of `store_as` (`gz`, `json`, `txt`, `zst`).
    pub file_extension: &'a str,
    /// This host's name (`%{hostname}`).
    pub hostname: &'a str,
    /// `check_object`.
    pub check_object: bool,
    /// `index_format`.
    pub index_format: IndexFormat,
    /// `hex_random_length` (≤ 16).
    pub hex_random_length: usize,
}

/// Builds the object keys of chunks.
#[derive(Clone, Debug)]
pub struct KeyBuilder {
    template: Template,
    explicit: bool,
    check_object: bool,
    index_format: IndexFormat,
    hex_random_length: usize,
    time_slice: TimeFormatter,
    zone: Zone,
}

/// A chosen key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Chosen {
    /// The object key.
    pub key: String,
    /// The `%{index}` it was built with.
    pub index: u64,
    /// An object of that key exists and `overwrite true` replaces it.
    pub overwrites: bool,
}

impl KeyBuilder {
    /// Compile the key format for a buffer.
    pub fn new(o: &KeyOptions, cfg: &BufferConfig) -> Result<KeyBuilder, String> {
        let format = match o.format {
            Some(f) => f,
            None if o.check_object => DEFAULT_FORMAT,
            None => DEFAULT_FORMAT_NO_CHECK,
        };
        for ph in [
            "%{uuid}",
            "%{uuid:random}",
            "%{uuid:hostname}",
            "%{uuid:timestamp}",
        ] {
            if format.contains(ph) {
                return Err(format!(
                    "{ph} placeholder in s3_object_key_format is removed (use %{{uuid_flush}} or ${{chunk_id}})"
                ));
            }
        }
        // fluent-plugin-s3 substitutes %{hostname} at configure time, then %{path} and
        // %{file_extension} before the output placeholders (so `${tag}` and `%Y` in `path` work).
        let with_host = format.replace("%{hostname}", o.hostname);
        let path = if o.path.contains("${tag_parts[") {
            tracing::warn!("'path': ${{tag_parts[N]}} is the v0.12 spelling; logferry substitutes it as Fluentd v1's ${{tag[N]}} (write that instead)");
            o.path.replace("${tag_parts[", "${tag[")
        } else {
            o.path.to_string()
        };
        let pre = gsub_percent(&with_host, |name| match name {
            "path" => Some(path.clone()),
            "file_extension" => Some(o.file_extension.to_string()),
            _ => None,
        });
        let template = Template::new("s3_object_key_format", &pre, cfg)?;
        let time_slice = TimeFormatter::new(&time_slice_format(cfg), cfg.timekey_zone.clone())
            .map_err(|e| format!("time_slice_format: {e}"))?;
        Ok(KeyBuilder {
            template,
            explicit: o.format.is_some(),
            check_object: o.check_object,
            index_format: o.index_format,
            hex_random_length: o.hex_random_length.min(32),
            time_slice,
            zone: cfg.timekey_zone.clone(),
        })
    }

    /// The key format after start-up substitutions (`%{hostname}`, `%{path}`,
    /// `%{file_extension}`).
    pub fn template(&self) -> &str {
        self.template.as_str()
    }

    /// Are keys probed with HEAD requests? Only when `check_object` is on and the user wrote
    /// `s3_object_key_format` (logferry's default is unique by construction).
    pub fn probes(&self) -> bool {
        self.check_object && self.explicit
    }

    /// Does the format hold something unique per chunk (`${chunk_id}`, `%{chunk_id}`,
    /// `%{uuid_flush}`, `%{hex_random}`)?
    pub fn unique_per_chunk(&self) -> bool {
        let t = self.template.as_str();
        [
            "${chunk_id}",
            "%{chunk_id}",
            "%{uuid_flush}",
            "%{hex_random}",
        ]
        .iter()
        .any(|p| t.contains(p))
    }

    /// Does the template use a tag placeholder?
    pub fn uses_tag(&self) -> bool {
        self.template.uses_tag()
    }

    /// The output placeholders of one chunk (step 2), before the per-attempt `%{…}`.
    pub fn render_chunk(&self, meta: &ChunkMeta, id: &ChunkId) -> String {
        self.template.render(meta, id)
    }

    /// The key for attempt `index` (step 3); `now` is the wall clock for `%{hms_slice}`.
    pub fn finish(
        &self,
        base: &str,
        meta: &ChunkMeta,
        id: &ChunkId,
        index: u64,
        now: EventTime,
    ) -> String {
        let time_slice = || match meta.timekey {
            Some(tk) => self
                .time_slice
                .format(EventTime::new(u32::try_from(tk).unwrap_or(0), 0)),
            None => String::new(),
        };
        gsub_percent(base, |name| {
            Some(match name {
                "time_slice" => time_slice(),
                "hex_random" => {
                    let rev: String = id.hex().chars().rev().collect();
                    rev[..self.hex_random_length.min(rev.len())].to_string()
                }
                "uuid_flush" => uuid_v4(),
                "chunk_id" => id.hex(),
                "index" if self.check_object => self.index_format.format(index),
                "date_slice" if !self.check_object => time_slice(),
                "hms_slice" if !self.check_object => {
                    TimeFormatter::new("%H%M%S", self.zone.clone())
                        .map(|f| f.format(now))
                        .unwrap_or_default()
                }
                // Any other %{…} is removed, as fluent-plugin-s3 does.
                _ => String::new(),
            })
        })
    }

    /// Choose the key of a chunk: without probing, attempt 0; with probing (fluent-plugin-s3's
    /// loop), the first key for which `exists` says no, raising the index; a key that does not
    /// change with the index is "duplicated" — replaced with `overwrite`, else an error.
    pub async fn choose<F, Fut>(
        &self,
        meta: &ChunkMeta,
        id: &ChunkId,
        overwrite: bool,
        mut exists: F,
    ) -> Result<Chosen, String>
    where
        F: FnMut(String) -> Fut,
        Fut: Future<Output = Result<bool, String>>,
    {
        let base = self.render_chunk(meta, id);
        let now = EventTime::now();
        if !self.probes() {
            return Ok(Chosen {
                key: self.finish(&base, meta, id, 0, now),
                index: 0,
                overwrites: false,
            });
        }
        let mut previous: Option<String> = None;
        let mut i = 0u64;
        loop {
            let key = self.finish(&base, meta, id, i, now);
            if previous.as_deref() == Some(key.as_str()) {
                if overwrite {
                    return Ok(Chosen {
                        key,
                        index: i.saturating_sub(1),
                        overwrites: true,
                    });
                }
                return Err(format!(
                    "duplicated path is generated. use %{{index}} in s3_object_key_format: path = {key}"
                ));
            }
            if !exists(key.clone()).await? {
                return Ok(Chosen {
                    key,
                    index: i,
                    overwrites: false,
                });
            }
            if i >= 1_000_000 {
                return Err(format!("no free %{{index}} below {i} for {key}"));
            }
            previous = Some(key);
            i += 1;
        }
    }
}

/// A random (version 4) UUID, as Ruby's `SecureRandom.uuid`.
pub fn uuid_v4() -> String {
    let mut b: [u8; 16] = rand::random();
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;
    use std::sync::Mutex;

    use logferry_core::buffer::BufferDefaults;
    use logferry_core::Section;

    const HOST: &str = "host-a";

    /// The buffer of an s3 `<match>` whose body is `body`.
    fn cfg(body: &str) -> BufferConfig {
        let root = logferry_config::parse_str(
            &format!("<match **>\n@type s3\n{body}\n</match>\n"),
            "t.conf",
            std::path::Path::new("."),
        )
        .unwrap();
        BufferConfig::from_output(
            &Section::new(&root.elements[0], "s3"),
            &BufferDefaults {
                chunk_keys: &["time"],
                timekey: Some(86_400),
                ..Default::default()
            },
        )
        .unwrap()
    }

    fn builder(
        format: Option<&str>,
        path: &str,
        check_object: bool,
        c: &BufferConfig,
    ) -> KeyBuilder {
        KeyBuilder::new(
            &KeyOptions {
                format,
                path,
                file_extension: "gz",
                hostname: HOST,
                check_object,
                index_format: IndexFormat::parse("%d").unwrap(),
                hex_random_length: 4,
            },
            c,
        )
        .unwrap()
    }

    fn meta(tag: Option<&str>, timekey: Option<i64>) -> ChunkMeta {
        ChunkMeta {
            tag: tag.map(str::to_string),
            timekey,
            ..Default::default()
        }
    }

    /// Run `choose` against a set of existing keys; returns the result and the HEADs made.
    fn choose(
        b: &KeyBuilder,
        m: &ChunkMeta,
        id: &ChunkId,
        overwrite: bool,
        existing: &[&str],
    ) -> (Result<Chosen, String>, Vec<String>) {
        let set: HashSet<String> = existing.iter().map(|s| s.to_string()).collect();
        let heads = Mutex::new(Vec::new());
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let r = rt.block_on(b.choose(m, id, overwrite, |k| {
            heads.lock().unwrap().push(k.clone());
            let hit = set.contains(&k);
            async move { Ok(hit) }
        }));
        (r, heads.into_inner().unwrap())
    }

    const ID: ChunkId = ChunkId([
        0x05, 0xf8, 0x1e, 0x2a, 0x3b, 0x4c, 0x5d, 0x6e, 0x7f, 0x80, 0x91, 0xa2, 0xb3, 0xc4, 0xd5,
        0xe6,
    ]);

    // Reference §7.9 case 92: `path logs/${tag}/%Y/%m/%d/`, <buffer tag,time> timekey 3600 UTC,
    // tag app.web, t=1700000000 → logs/app.web/2023/11/14/2023111422_0.gz; existing → _1.gz.
    #[test]
    fn case_92_tag_strftime_index_probing() {
        let c = cfg("<buffer tag,time>\ntimekey 3600\ntimekey_use_utc true\n</buffer>");
        let b = builder(
            Some(FLUENTD_DEFAULT_FORMAT),
            "logs/${tag}/%Y/%m/%d/",
            true,
            &c,
        );
        let m = meta(Some("app.web"), Some(1_699_999_200));
        let (r, heads) = choose(&b, &m, &ID, false, &[]);
        assert_eq!(r.unwrap().key, "logs/app.web/2023/11/14/2023111422_0.gz");
        assert_eq!(heads, ["logs/app.web/2023/11/14/2023111422_0.gz"]);
        let (r, heads) = choose(
            &b,
            &m,
            &ID,
            false,
            &["logs/app.web/2023/11/14/2023111422_0.gz"],
        );
        let r = r.unwrap();
        assert_eq!(r.key, "logs/app.web/2023/11/14/2023111422_1.gz");
        assert_eq!((r.index, r.overwrites), (1, false));
        assert_eq!(heads.len(), 2);
    }

    // Case 93: all defaults (UTC), events of 2023-11-14. Fluentd's default gives 20231114_0.gz
    // after a HEAD; logferry's default is unique without any HEAD:
    // 20231114_<hostname>_<chunk id>.gz.
    #[test]
    fn case_93_defaults() {
        let c = cfg("timekey_use_utc true");
        assert_eq!(c.timekey, Some(86_400));
        let m = meta(None, Some(1_699_920_000));
        let b = builder(None, "", true, &c);
        assert!(!b.probes());
        let (r, heads) = choose(&b, &m, &ID, false, &[]);
        assert_eq!(r.unwrap().key, format!("20231114_{HOST}_{}.gz", ID.hex()));
        assert!(heads.is_empty(), "the default format makes no HEAD request");
        // Even when an object of that key exists (the same chunk sent again after a crash), it is
        // simply written again.
        let (r, heads) = choose(
            &b,
            &m,
            &ID,
            false,
            &[&format!("20231114_{HOST}_{}.gz", ID.hex())],
        );
        assert!(r.is_ok() && heads.is_empty());
        // Fluentd's default, written explicitly, keeps Fluentd's meaning.
        let b = builder(Some(FLUENTD_DEFAULT_FORMAT), "", true, &c);
        let (r, heads) = choose(&b, &m, &ID, false, &[]);
        assert_eq!(r.unwrap().key, "20231114_0.gz");
        assert_eq!(heads, ["20231114_0.gz"]);
    }

    // With `check_object false` and no format, Fluentd's key is
    // `%{path}/%{time_slice}_%{hms_slice}.%{file_extension}`: logferry's stays unique and under
    // the same `%{path}/` prefix (corpus config 015: `path %Y/%m/%d` gives `2023/11/14/…`).
    #[test]
    fn default_without_check_object_keeps_fluentds_prefix() {
        let c = cfg("timekey_use_utc true");
        let m = meta(None, Some(1_699_920_000));
        let b = builder(None, "%Y/%m/%d", false, &c);
        assert!(!b.probes());
        let (r, heads) = choose(&b, &m, &ID, false, &[]);
        assert_eq!(
            r.unwrap().key,
            format!("2023/11/14/20231114_{HOST}_{}.gz", ID.hex())
        );
        assert!(heads.is_empty());
    }

    // Case 94: `%{path}${chunk_id}.%{file_extension}`, object exists → "duplicated path" error
    // (retried by the engine); `overwrite true` → replaced.
    #[test]
    fn case_94_duplicated_path_and_overwrite() {
        let c = cfg("");
        let b = builder(Some("%{path}${chunk_id}.%{file_extension}"), "p/", true, &c);
        let m = meta(None, Some(1_699_920_000));
        let key = format!("p/{}.gz", ID.hex());
        let (r, _) = choose(&b, &m, &ID, false, &[]);
        assert_eq!(r.unwrap().key, key);
        let (r, heads) = choose(&b, &m, &ID, false, &[&key]);
        let e = r.unwrap_err();
        assert!(e.starts_with("duplicated path is generated"), "{e}");
        assert!(e.ends_with(&key), "{e}");
        assert_eq!(heads, std::slice::from_ref(&key));
        let (r, _) = choose(&b, &m, &ID, true, &[&key]);
        assert_eq!(
            r.unwrap(),
            Chosen {
                key,
                index: 0,
                overwrites: true
            }
        );
    }

    // Case 95: `path ${tag}/` with chunk keys `time` only → the key holds a literal `${tag}/`;
    // `%{foo}` is removed.
    #[test]
    fn case_95_literal_tag_and_unknown_removed() {
        let c = cfg("<buffer time>\ntimekey 3600\ntimekey_use_utc true\n</buffer>");
        assert!(!c.key_tag);
        let b = builder(
            Some("%{path}%{foo}_%{index}.%{file_extension}"),
            "${tag}/",
            true,
            &c,
        );
        let (r, _) = choose(&b, &meta(None, Some(1_699_999_200)), &ID, false, &[]);
        assert_eq!(r.unwrap().key, "${tag}/_0.gz");
    }

    #[test]
    fn every_percent_placeholder() {
        let c = cfg("<buffer time>\ntimekey 3600\ntimekey_use_utc true\n</buffer>");
        let b = builder(
            Some("%{path}|%{time_slice}|%{index}|%{file_extension}|%{uuid_flush}|%{hex_random}|%{hostname}|%{chunk_id}|%{hms_slice}"),
            "pre/",
            true,
            &c,
        );
        let m = meta(None, Some(1_699_999_200));
        let (r, _) = choose(&b, &m, &ID, false, &[]);
        let key = r.unwrap().key;
        let parts: Vec<&str> = key.split('|').collect();
        assert_eq!(parts[..4], ["pre/", "2023111422", "0", "gz"]);
        let uuid = parts[4];
        assert_eq!(uuid.len(), 36);
        assert_eq!(uuid.as_bytes()[14], b'4');
        // hex_random: the chunk id's hex reversed, first hex_random_length digits.
        assert_eq!(parts[5], "6e5d");
        assert_eq!(parts[6], HOST);
        assert_eq!(parts[7], ID.hex());
        // hms_slice exists only with check_object false (as fluent-plugin-s3).
        assert_eq!(parts[8], "");
        // Two attempts get two uuids.
        let (r2, _) = choose(&b, &m, &ID, false, &[]);
        assert_ne!(r2.unwrap().key.split('|').nth(4).unwrap(), uuid);

        let b = builder(
            Some("%{time_slice}|%{date_slice}|%{hms_slice}|%{index}"),
            "",
            false,
            &c,
        );
        let (r, heads) = choose(&b, &m, &ID, false, &[]);
        let key = r.unwrap().key;
        let p: Vec<&str> = key.split('|').collect();
        assert_eq!(p[..2], ["2023111422", "2023111422"]);
        assert_eq!(p[2].len(), 6);
        assert_eq!(p[3], "", "no %{{index}} without check_object");
        assert!(heads.is_empty());
    }

    #[test]
    fn dollar_placeholders_and_time_slice_format() {
        let c = cfg("<buffer tag,time,app>\ntimekey 1h\ntimekey_use_utc true\n</buffer>");
        let b = builder(
            Some("${tag[1]}/${app}/%Y/%{time_slice}/${chunk_id}_%{index}.%{file_extension}"),
            "",
            true,
            &c,
        );
        let m = ChunkMeta {
            variables: vec![("app".into(), "web".into())],
            ..meta(Some("a.b.c"), Some(1_699_999_200))
        };
        let (r, _) = choose(&b, &m, &ID, false, &[]);
        assert_eq!(
            r.unwrap().key,
            format!("b/web/2023/2023111422/{}_0.gz", ID.hex())
        );
        // v0.12 time_slice_format (the seed config), ${tag_parts[N]}.
        let c = cfg("time_slice_format %Y/%m/%d/%H\npath logs/${tag_parts[2]}/");
        assert_eq!(c.timekey, Some(3600));
        assert!(c.key_tag);
        let b = builder(
            Some("%{path}%{time_slice}_%{index}_%{hostname}.%{file_extension}"),
            "logs/delish-event/${tag_parts[2]}/",
            true,
            &c,
        );
        let (r, _) = choose(
            &b,
            &meta(Some("delish.event.recipe_view"), Some(1_704_164_400)),
            &ID,
            false,
            &[],
        );
        assert_eq!(
            r.unwrap().key,
            format!("logs/delish-event/recipe_view/2024/01/02/03_0_{HOST}.gz")
        );
    }

    #[test]
    fn index_formats() {
        assert_eq!(IndexFormat::parse("%d").unwrap().format(7), "7");
        assert_eq!(IndexFormat::parse("%04d").unwrap().format(7), "0007");
        assert_eq!(IndexFormat::parse("%x").unwrap().format(255), "ff");
        assert_eq!(IndexFormat::parse("%03X").unwrap().format(255), "0FF");
        assert_eq!(IndexFormat::parse("%0d").unwrap().format(3), "3");
        for bad in ["d", "%4d", "%s", "%-4d", "%", "", "%0xd"] {
            assert!(IndexFormat::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn removed_uuid_placeholders_are_errors() {
        let c = cfg("");
        for f in [
            "%{uuid}",
            "a/%{uuid:random}",
            "%{uuid:hostname}",
            "%{uuid:timestamp}",
        ] {
            let o = KeyOptions {
                format: Some(f),
                path: "",
                file_extension: "gz",
                hostname: HOST,
                check_object: true,
                index_format: IndexFormat::parse("%d").unwrap(),
                hex_random_length: 4,
            };
            assert!(KeyBuilder::new(&o, &c).is_err(), "{f}");
        }
    }

    #[test]
    fn gsub_matches_ruby() {
        let up = |s: &str| gsub_percent(s, |n| Some(n.to_uppercase()));
        assert_eq!(up("a%{b}c%{d}"), "aBcD");
        assert_eq!(up("%{}x%{"), "%{}x%{");
        assert_eq!(up("%{a%{b}}"), "A%{B}");
        assert_eq!(up("100%"), "100%");
    }
}
