//! `file` output: writes formatted events to files named as Fluentd's out_file names them.
//!
//! Path template (Fluentd's `generate_path_template`, default chunk key `time`, timekey 1 day,
//! local time): `path` → `path.%Y%m%d_N.log` (`append true`: `path.%Y%m%d.log`); a `*` in `path`
//! is replaced by the time part (and `_N`); `time_slice_format` (v0.12) overrides the time part;
//! `compress gzip` adds `.gz`. Without `append`, every write goes to the first free `_N` file.
//!
//! Until the buffer engine lands, every batch that reaches the output is written at once, as
//! Fluentd does with `flush_mode immediate`; a `<buffer>` section is refused rather than ignored.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use flate2::write::GzEncoder;
use flate2::Compression;
use logferry_core::error::build_error;
use logferry_core::timefmt::{TimeFormatter, Zone};
use logferry_core::{BuildCtx, BuildError, EmitError, EventBatch, EventTime, Output, Section};
use tokio::sync::Mutex;

use crate::formatter::{self, Formatter};
use crate::inject::Inject;

const TIMEKEY: i64 = 86_400;

/// The file output.
pub struct FileOutput {
    template: TimeFormatter,
    append: bool,
    gzip: bool,
    zone: Zone,
    formatter: Box<dyn Formatter>,
    inject: Inject,
    lock: Mutex<()>,
}

/// Build from `<match>`.
pub fn build(_ctx: &BuildCtx, s: &Section) -> Result<Arc<dyn Output>, BuildError> {
    s.refuse_section(
        "buffer",
        "the buffer engine is not implemented yet; each batch is written to the file as it arrives (flush_mode immediate)",
    )?;
    s.refuse(
        "symlink_path",
        "it links to a file-buffer chunk, and the buffer engine is not implemented yet",
    )?;
    for key in [
        "buffer_type",
        "buffer_path",
        "buffer_chunk_limit",
        "buffer_queue_limit",
        "flush_interval",
    ] {
        s.refuse(
            key,
            "the buffer engine is not implemented yet; each batch is written as it arrives",
        )?;
    }
    let path = s.required("path")?.to_string();
    if path.contains("${") {
        let p = s.param("path").expect("required");
        return Err(build_error(&p.pos, "placeholders like ${tag} in path need buffer chunk keys, which are not implemented yet"));
    }
    let append = s.bool("append", false)?;
    let gzip = s.choice("compress", &["text", "gz", "gzip"], "text")? != "text";
    let add_suffix = s.bool("add_path_suffix", true)?;
    let suffix = if add_suffix {
        s.string("path_suffix", ".log")
    } else {
        String::new()
    };
    let time_slice_format = s.str("time_slice_format").map(str::to_string);
    // Fluentd's out_file takes the chunk time in the buffer's zone: local unless timekey_use_utc.
    let zone = Zone::Local;
    let time_part = time_slice_format
        .clone()
        .unwrap_or_else(|| "%Y%m%d".to_string());
    let template = path_template(
        &path,
        &time_part,
        time_slice_format.is_some(),
        append,
        gzip,
        &suffix,
    )
    .map_err(|e| build_error(s.pos(), e))?;
    let template =
        TimeFormatter::new(&template, zone.clone()).map_err(|e| build_error(s.pos(), e))?;
    let formatter = formatter::from_plugin(s, "out_file")?;
    let inject = Inject::from_plugin(s)?;
    Ok(Arc::new(FileOutput {
        template,
        append,
        gzip,
        zone,
        formatter,
        inject,
        lock: Mutex::new(()),
    }))
}

/// Fluentd's `generate_path_template` for a daily timekey; `_**` marks the index. The result is
/// a strftime template rendered on the chunk's day.
fn path_template(
    original: &str,
    time_part: &str,
    slice_given: bool,
    append: bool,
    gzip: bool,
    suffix: &str,
) -> Result<String, String> {
    let index = if append { "" } else { "_**" };
    let comp = if gzip { ".gz" } else { "" };
    if original.contains('*') {
        return Ok(format!(
            "{}{comp}",
            original.replace('*', &format!("{time_part}{index}"))
        ));
    }
    let day = ["%Y", "%m", "%d"];
    if !slice_given && day.iter().any(|ph| original.contains(ph)) {
        if !day.iter().all(|ph| original.contains(ph)) {
            return Err(
                "insufficient timestamp placeholders in path: a daily file needs %Y, %m and %d"
                    .into(),
            );
        }
        return Ok(format!("{original}{index}{suffix}{comp}"));
    }
    Ok(format!("{original}.{time_part}{index}{suffix}{comp}"))
}

impl FileOutput {
    /// The file path for the day of `time`, before the `_N` index is chosen.
    fn path_for(&self, time: EventTime) -> String {
        let off = i64::from(self.zone.offset_at(i64::from(time.sec)));
        let sec = i64::from(time.sec);
        let key = sec - (sec + off).rem_euclid(TIMEKEY);
        self.template
            .format(EventTime::new(u32::try_from(key).unwrap_or(0), 0))
    }

    fn write(&self, template: &str, data: &[u8]) -> std::io::Result<PathBuf> {
        let path = if self.append {
            PathBuf::from(template)
        } else {
            first_free(template)
        };
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir)?;
        }
        let mut f = OpenOptions::new().create(true).append(true).open(&path)?;
        if self.gzip {
            let mut gz = GzEncoder::new(Vec::new(), Compression::default());
            gz.write_all(data)?;
            f.write_all(&gz.finish()?)?;
        } else {
            f.write_all(data)?;
        }
        Ok(path)
    }
}

fn first_free(template: &str) -> PathBuf {
    (0u64..)
        .map(|i| PathBuf::from(template.replacen("_**", &format!("_{i}"), 1)))
        .find(|p| !Path::new(p).exists())
        .unwrap_or_else(|| PathBuf::from(template))
}

#[async_trait]
impl Output for FileOutput {
    async fn emit(&self, tag: &str, batch: EventBatch) -> Result<(), EmitError> {
        // Group by file (day), keeping order; almost always one group.
        let mut groups: Vec<(String, Vec<u8>)> = Vec::new();
        let mut rec = Vec::new();
        for e in &batch {
            let path = self.path_for(e.time);
            let idx = match groups.iter().position(|(p, _)| *p == path) {
                Some(i) => i,
                None => {
                    groups.push((path, Vec::with_capacity(batch.bytes().len() * 2)));
                    groups.len() - 1
                }
            };
            let out = &mut groups[idx].1;
            if self.inject.is_empty() {
                self.formatter.format_raw(tag, e.time, e.record, out);
            } else {
                rec.clear();
                self.inject.apply_raw(tag, e.time, e.record, &mut rec);
                self.formatter.format_raw(tag, e.time, &rec, out);
            }
        }
        let _guard = self.lock.lock().await;
        for (template, data) in groups {
            let written = tokio::task::block_in_place(|| self.write(&template, &data));
            written.map_err(|e| EmitError::Failed(format!("file output: {template}: {e}")))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_follow_fluentd() {
        assert_eq!(
            path_template("/x/out", "%Y%m%d", false, false, false, ".log").unwrap(),
            "/x/out.%Y%m%d_**.log"
        );
        assert_eq!(
            path_template("/x/out", "%Y%m%d", false, true, false, ".log").unwrap(),
            "/x/out.%Y%m%d.log"
        );
        assert_eq!(
            path_template("/x/out.*.data", "%Y%m%d", false, true, true, ".log").unwrap(),
            "/x/out.%Y%m%d.data.gz"
        );
        assert_eq!(
            path_template("/x/%Y/%m/%d/out", "%Y%m%d", false, true, false, ".log").unwrap(),
            "/x/%Y/%m/%d/out.log"
        );
        assert!(path_template("/x/%Y/out", "%Y%m%d", false, true, false, ".log").is_err());
        assert_eq!(
            path_template("/x/out", "%Y%m%d%H", true, false, false, "").unwrap(),
            "/x/out.%Y%m%d%H_**"
        );
    }

    #[test]
    fn first_free_index() {
        let dir = tempfile::tempdir().unwrap();
        let t = format!("{}/a_**.log", dir.path().display());
        assert!(first_free(&t).ends_with("a_0.log"));
        fs::write(dir.path().join("a_0.log"), "x").unwrap();
        assert!(first_free(&t).ends_with("a_1.log"));
    }
}
