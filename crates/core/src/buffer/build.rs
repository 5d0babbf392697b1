//! Assemble a buffered output from its section: the writer, `<buffer>`, `<secondary>`, the backup
//! directory and the chunk store, registered for start and drain.

use std::path::PathBuf;
use std::sync::Arc;

use super::config::{BufferConfig, BufferDefaults, StoreKind};
use super::engine::{BufferedOutput, ChunkWriter};
use super::file_store::{CountFormat, SingleLayout};
use crate::error::{build_error, BuildError};
use crate::perms::Perms;
use crate::pipeline::BuildCtx;
use crate::plugin::Output;
use crate::section::Section;

/// Builds a plugin's chunk writer from its section and buffer settings.
pub type WriterFactory =
    fn(&BuildCtx, &Section, &BufferConfig) -> Result<Arc<dyn ChunkWriter>, BuildError>;

/// Where chunks that are given up are copied: `<root_dir | $FLUENT_BACKUP_DIR | /tmp/fluent>/backup/worker0/<plugin id>/`.
pub fn backup_dir(ctx: &BuildCtx) -> PathBuf {
    let base = ctx
        .system
        .root_dir
        .clone()
        .or_else(|| std::env::var("FLUENT_BACKUP_DIR").ok())
        .unwrap_or_else(|| "/tmp/fluent".to_string());
    let id: String = ctx
        .log
        .name()
        .chars()
        .map(|c| if " \"/\\:;|*<>?".contains(c) { '_' } else { c })
        .collect();
    PathBuf::from(base).join("backup").join("worker0").join(id)
}

/// Where a file buffer without `path` lives, as Fluentd's buf_file puts it: with `<system>
/// root_dir` and an `@id`, `<root_dir>/worker0/<@id>/buffer`; else out_file's own `path` (a `*`
/// replaced by `buffer`); else nowhere (refused).
fn default_file_path(ctx: &BuildCtx, s: &Section, defaults: &BufferDefaults) -> Option<String> {
    if let (Some(root), Some(id)) = (ctx.system.root_dir.as_deref(), s.str("@id")) {
        let dir = PathBuf::from(root).join("worker0").join(id).join("buffer");
        return Some(dir.to_string_lossy().into_owned());
    }
    if defaults.file_at_output_path {
        return s.str("path").map(|p| p.replace('*', "buffer"));
    }
    None
}

/// Build a buffered output of type `ty` (its writer from `factory`).
pub fn build_buffered(
    ctx: &BuildCtx,
    s: &Section,
    ty: &str,
    factory: WriterFactory,
    defaults: &BufferDefaults,
) -> Result<Arc<dyn Output>, BuildError> {
    let mut cfg = BufferConfig::from_output(s, defaults)?;
    let system_perms = Perms::of(&ctx.system);
    cfg.backup_perms = system_perms;
    // A buffer under <system> root_dir: `<root_dir>/worker0/<@id>` is the plugin's directory,
    // which Fluentd makes with <system>'s dir_permission (the buffer's own is for `buffer/`).
    let mut plugin_dir = None;
    if let StoreKind::File {
        path,
        single: Some(_),
        ..
    } = &mut cfg.store
    {
        // file_single without path: under <system> root_dir with @id; else out_file's own
        // `path` as it is written (out_file gives it to any buffer type, and file_single reads
        // it by its own rules: a directory, or `DIR/P.*`); else Fluentd's error.
        if path.is_empty() {
            if let (Some(root), Some(id)) = (ctx.system.root_dir.as_deref(), s.str("@id")) {
                plugin_dir = Some(PathBuf::from(root).join("worker0").join(id));
                *path = PathBuf::from(root)
                    .join("worker0")
                    .join(id)
                    .join("buffer")
                    .to_string_lossy()
                    .into_owned();
            } else if let Some(p) = s.str("path").filter(|_| defaults.file_at_output_path) {
                *path = p.to_string();
            } else {
                return Err(build_error(
                    s.pos(),
                    "buffer path is not configured. specify 'path' in <buffer> (or <system> root_dir with @id)",
                ));
            }
        }
    }
    if let StoreKind::File {
        path, single: None, ..
    } = &mut cfg.store
    {
        if path.is_empty() {
            if let (Some(root), Some(id)) = (ctx.system.root_dir.as_deref(), s.str("@id")) {
                plugin_dir = Some(PathBuf::from(root).join("worker0").join(id));
            }
            *path = default_file_path(ctx, s, defaults).ok_or_else(|| {
                build_error(
                    s.pos(),
                    "a file buffer needs 'path' (or <system> root_dir with @id)",
                )
            })?;
        }
    }
    let writer = factory(ctx, s, &cfg)?;
    let secondary = match s.section("secondary")? {
        None => None,
        Some(sec) => {
            sec.refuse_section("buffer", "a secondary uses the primary's buffer")?;
            sec.refuse_section("secondary", "a secondary cannot have its own secondary")?;
            let sty = sec
                .str("@type")
                .or_else(|| sec.str("type"))
                .unwrap_or(ty)
                .to_string();
            let f = ctx.registry.writer(&sty).ok_or_else(|| {
                build_error(
                    sec.pos(),
                    format!(
                        "<secondary> type '{sty}' cannot take chunks; supported: {}",
                        ctx.registry.writer_names().join(", ")
                    ),
                )
            })?;
            if sty != ty && sty != "secondary_file" {
                tracing::warn!("{}: secondary type '{sty}' differs from the primary '{ty}': it receives chunks formatted for '{ty}'", sec.pos());
            }
            let sec = ctx.registry.declared_output(&sty, &sec)?;
            Some(f(ctx, &sec, &cfg)?)
        }
    };
    let backup = backup_dir(ctx);
    let out = match &cfg.store {
        StoreKind::Memory => Arc::new(BufferedOutput::new(
            cfg,
            writer,
            secondary,
            ctx.log.clone(),
            backup,
        )),
        StoreKind::File {
            path,
            suffix,
            fsync,
            file_permission,
            dir_permission,
            single,
        } => {
            let (mut dir, suffix, fsync) = (PathBuf::from(path), suffix.clone(), *fsync);
            // The buffer's own modes, else <system>'s (Fluentd's buf_file).
            let perms = Perms {
                file: file_permission.unwrap_or(system_perms.file),
                dir: dir_permission.unwrap_or(system_perms.dir),
            };
            let single = match single {
                None => None,
                Some(sc) => {
                    let (d, prefix, extra) =
                        single_path(path, ctx.system.workers, plugin_dir.is_some())
                            .map_err(|e| build_error(s.pos(), e))?;
                    dir = d;
                    let pattern = dir.join(format!("{prefix}.*.buf"));
                    ctx.claim_single_buffer_path(&pattern.to_string_lossy(), ty)
                        .map_err(|e| build_error(s.pos(), e))?;
                    let count = sc.calc_num_records.then(|| {
                        if sc
                            .msgpack
                            .unwrap_or_else(|| writer.formatted_to_msgpack_binary())
                        {
                            CountFormat::Msgpack
                        } else {
                            CountFormat::Text
                        }
                    });
                    Some(SingleLayout {
                        prefix,
                        key: sc.key.clone(),
                        key_tag: cfg.key_tag,
                        count,
                        msgpack_data: !cfg.compress_gzip
                            && (writer.formats_verbatim() || writer.formatted_to_msgpack_binary()),
                        extra_resume_dir: extra,
                        backup: (!cfg.disable_chunk_backup).then(|| (backup.clone(), system_perms)),
                    })
                }
            };
            Arc::new(file_backed(
                cfg,
                writer,
                secondary,
                ctx.log.clone(),
                backup,
                FileStoreAt {
                    dir,
                    suffix,
                    fsync,
                    perms,
                    plugin_dir: plugin_dir.map(|d| (d, system_perms)),
                    single,
                },
            ))
        }
    };
    out.set_error_emitter(ctx.emitter.clone());
    ctx.register(out.clone());
    ctx.metrics.attach(&ctx.plugin_id, out.clone());
    Ok(out)
}

/// Where and how a file buffer keeps its chunks.
#[derive(Clone, Debug)]
pub struct FileStoreAt {
    /// The directory.
    pub dir: PathBuf,
    /// Suffix of chunk file names.
    pub suffix: String,
    /// fsync at every commit.
    pub fsync: bool,
    /// Modes of the chunk files and of the directories created.
    pub perms: Perms,
    /// For a buffer under `<system> root_dir`: the plugin's directory, made first with these
    /// modes (`<system>`'s), as Fluentd's `plugin_root_dir`.
    pub plugin_dir: Option<(PathBuf, Perms)>,
    /// `@type file_single`: its file names and resume; `None` for `@type file`.
    pub single: Option<SingleLayout>,
}

/// Fluentd's `file_single` path rules: `(directory, file name prefix, directory resumed too)`.
///
/// An existing directory, or a path that does not exist and holds no `.*`, is a directory:
/// chunks `<path>/fsb.<key>.b<id>.buf` (with `workers` over 1, outside `root_dir`,
/// `<path>/worker0/…`, and worker 0 also resumes `<path>/fsb.*.buf`). Anything else is a file
/// path: `DIR/P.*` gives chunks `DIR/P.<key>…`, `DIR/P` (an existing file is left alone) too,
/// and `DIR/P.*.S` is Fluentd's warning and `DIR/fsb.*.buf`. A file path with `workers` over 1
/// is Fluentd's multi-worker error, and a `*` in the directory part is refused.
pub fn single_path(
    path: &str,
    workers: i64,
    using_root_dir: bool,
) -> Result<(PathBuf, String, Option<PathBuf>), String> {
    let p = std::path::Path::new(path);
    let is_dir = p.is_dir();
    let exists = p.exists();
    if is_dir || (!exists && !path.contains(".*")) {
        if using_root_dir || workers <= 1 {
            return Ok((p.to_path_buf(), "fsb".into(), None));
        }
        return Ok((p.join("worker0"), "fsb".into(), Some(p.to_path_buf())));
    }
    if workers > 1 {
        return Err("Plugin 'file_single' does not support multi workers configuration (Fluent::Plugin::FileSingleBuffer): file_single buffer with multi workers should be configured to use directory 'path', or system root_dir and plugin id".into());
    }
    let base = p
        .file_name()
        .map(|b| b.to_string_lossy().into_owned())
        .unwrap_or_default();
    let dir = match p.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if dir.to_string_lossy().contains('*') {
        return Err(format!(
            "file_single buffer path '{path}': a '*' in its directory part is not supported by logferry"
        ));
    }
    let prefix = if base.contains(".*.") {
        let new_path = dir.join("fsb.*.buf");
        tracing::warn!(
            "file_single doesn't allow user specified 'prefix.*.suffix' style path. Use '{}' for file instead: {path}",
            new_path.display()
        );
        "fsb".to_string()
    } else if let Some(pre) = base.strip_suffix(".*") {
        pre.to_string()
    } else {
        base
    };
    Ok((dir, prefix, None))
}

/// A buffered output whose chunks live in `at.dir` (opened and resumed at start).
pub fn file_backed(
    cfg: BufferConfig,
    writer: Arc<dyn ChunkWriter>,
    secondary: Option<Arc<dyn ChunkWriter>>,
    log: crate::log::PluginLog,
    backup: PathBuf,
    at: FileStoreAt,
) -> BufferedOutput {
    let store_slot: Arc<std::sync::OnceLock<Arc<super::file_store::FileStore>>> =
        Arc::new(std::sync::OnceLock::new());
    let backend = Arc::new(LazyFile {
        slot: store_slot.clone(),
    });
    let rlog = log.clone();
    let resume = Box::new(move || {
        let FileStoreAt {
            dir,
            suffix,
            fsync,
            perms,
            plugin_dir,
            single,
        } = &at;
        if let Some((pdir, pperms)) = plugin_dir {
            pperms.create_dir_all(pdir)?;
        }
        let durability = if *fsync {
            super::file_store::Durability::PowerLoss
        } else {
            super::file_store::Durability::Process
        };
        let (store, chunks, report) = match single {
            Some(layout) => {
                super::file_store::FileStore::open_single(dir, layout.clone(), durability, *perms)?
            }
            None => super::file_store::FileStore::open_with(dir, suffix, durability, *perms)?,
        };
        // The store logs each quarantined chunk itself.
        if report.truncated > 0 {
            rlog.info(format_args!(
                "cut the uncommitted tail of {} chunk(s) left by a crash",
                report.truncated
            ));
        }
        let _ = store_slot.set(Arc::new(store));
        Ok(super::file_backend::handles(chunks))
    });
    BufferedOutput::with_backend(cfg, writer, secondary, log, backup, backend, Some(resume))
}

/// The file backend, opened at start (so `--dry-run` touches no file).
struct LazyFile {
    slot: Arc<std::sync::OnceLock<Arc<super::file_store::FileStore>>>,
}

impl LazyFile {
    fn get(&self) -> std::io::Result<super::file_backend::FileBackend> {
        self.slot
            .get()
            .map(|s| super::file_backend::FileBackend::new(s.clone()))
            .ok_or_else(|| std::io::Error::other("file buffer used before start"))
    }
}

impl super::backend::Backend for LazyFile {
    fn create(&self, meta: super::meta::ChunkMeta) -> std::io::Result<super::backend::Handle> {
        self.get()?.create(meta)
    }
    fn append(
        &self,
        h: &mut super::backend::Handle,
        data: &[u8],
        records: u64,
    ) -> std::io::Result<()> {
        self.get()?.append(h, data, records)
    }
    fn enqueue(&self, h: &mut super::backend::Handle) -> std::io::Result<()> {
        self.get()?.enqueue(h)
    }
    fn read(&self, h: &super::backend::Handle) -> std::io::Result<bytes::Bytes> {
        self.get()?.read(h)
    }
    fn purge(&self, h: &super::backend::Handle) -> std::io::Result<()> {
        self.get()?.purge(h)
    }
    fn backup(
        &self,
        h: &super::backend::Handle,
        dir: &std::path::Path,
        perms: Perms,
    ) -> std::io::Result<PathBuf> {
        self.get()?.backup(h, dir, perms)
    }
    fn durable(&self) -> bool {
        true
    }
    fn data_path(&self, h: &super::backend::Handle) -> Option<PathBuf> {
        self.get().ok()?.data_path(h)
    }
}

#[cfg(test)]
mod tests {
    use super::single_path;
    use std::path::PathBuf;

    /// Fluentd's file_single path rules.
    #[test]
    fn single_paths() {
        let t = tempfile::tempdir().unwrap();
        let root = t.path();
        let p = |s: &str| root.join(s).to_string_lossy().into_owned();
        std::fs::create_dir(root.join("dir.*")).unwrap();
        std::fs::write(root.join("file"), "").unwrap();
        // An existing directory (even one named with `.*`), or a new path without `.*`.
        assert_eq!(
            single_path(&p("dir.*"), 1, false).unwrap(),
            (root.join("dir.*"), "fsb".to_string(), None)
        );
        assert_eq!(
            single_path(&p("new/buf"), 1, false).unwrap(),
            (root.join("new/buf"), "fsb".to_string(), None)
        );
        // File paths: `P.*`, an existing file `P`, and `P.*.S` (Fluentd's warning, fsb).
        assert_eq!(
            single_path(&p("chunks.*"), 1, false).unwrap(),
            (root.to_path_buf(), "chunks".to_string(), None)
        );
        assert_eq!(
            single_path(&p("file"), 1, false).unwrap(),
            (root.to_path_buf(), "file".to_string(), None)
        );
        assert_eq!(
            single_path(&p("x.*.log"), 1, false).unwrap(),
            (root.to_path_buf(), "fsb".to_string(), None)
        );
        assert_eq!(
            single_path("rel.*", 1, false).unwrap(),
            (PathBuf::from("."), "rel".to_string(), None)
        );
        // Several workers: worker0 under a directory, which is resumed too; not under root_dir;
        // a file path refused.
        assert_eq!(
            single_path(&p("new/buf"), 2, false).unwrap(),
            (
                root.join("new/buf/worker0"),
                "fsb".to_string(),
                Some(root.join("new/buf"))
            )
        );
        assert_eq!(
            single_path(&p("new/buf"), 2, true).unwrap(),
            (root.join("new/buf"), "fsb".to_string(), None)
        );
        let e = single_path(&p("chunks.*"), 2, false).unwrap_err();
        assert!(e.contains("does not support multi workers"), "{e}");
        // A `*` in the directory part.
        let e = single_path(&p("a*b/c.*"), 1, false).unwrap_err();
        assert!(e.contains("directory part"), "{e}");
    }
}
