//! `secondary_file`: the `<secondary>` that dumps chunks a primary could not write into files
//! (`directory`, `basename`, `append`, `compress`), as Fluentd's out_secondary_file.

use std::sync::Arc;

use async_trait::async_trait;
use logferry_core::buffer::{BufferConfig, Chunk, ChunkWriter, Template, WriteError};
use logferry_core::error::build_error;
use logferry_core::params::{p, ParamType::*, Spec};
use logferry_core::{BuildCtx, BuildError, EventTime, Section};

/// The secondary_file writer.
pub struct SecondaryFile {
    path: Template,
    append: bool,
    gzip: bool,
    /// `<system>` file_permission/dir_permission.
    perms: logferry_core::perms::Perms,
}

/// `secondary_file` output (a `<secondary>` only).
pub static PARAMS: Spec = Spec::new(
    "secondary_file",
    "Dumps chunks that were given up as files (only as a `<secondary>`).",
)
.params(&[
    p("directory", Str, "Directory of the files.").required(),
    p("basename", Str, "File name (placeholders allowed).").default("dump.bin"),
    p(
        "append",
        Bool,
        "Append to one file instead of one file per chunk.",
    )
    .default("false"),
    p("compress", Enum(&["text", "gzip"]), "Gzip the files.").default("text"),
]);

/// Writer factory (only valid as a `<secondary>`).
pub fn writer(
    ctx: &BuildCtx,
    s: &Section,
    cfg: &BufferConfig,
) -> Result<Arc<dyn ChunkWriter>, BuildError> {
    let s = &s.declared(&PARAMS);
    let dir: String = s.get("directory")?;
    let base: String = s.get("basename")?;
    if base.contains('/') {
        return Err(build_error(s.pos(), "basename must not contain '/'"));
    }
    let append = s.get("append")?;
    let gzip = s.get::<&str>("compress")? == "gzip";
    // Fluentd's `generate_path`: `<basename>.<i>` (the first free i) before `.gz`, or the
    // basename itself with `append`.
    let index = if append { "" } else { ".**" };
    let text = format!(
        "{}/{base}{index}{}",
        dir.trim_end_matches('/'),
        if gzip { ".gz" } else { "" }
    );
    let path = Template::new("basename", &text, cfg).map_err(|e| build_error(s.pos(), e))?;
    Ok(Arc::new(SecondaryFile {
        path,
        append,
        gzip,
        perms: logferry_core::perms::Perms::of(&ctx.system),
    }))
}

#[async_trait]
impl ChunkWriter for SecondaryFile {
    fn format(&self, _tag: &str, _time: EventTime, record: &[u8], out: &mut Vec<u8>) {
        out.extend_from_slice(record);
    }

    async fn write(&self, chunk: &Chunk) -> Result<(), WriteError> {
        let template = self.path.render(&chunk.meta, &chunk.id);
        let data = if self.gzip && chunk.is_gzip() {
            chunk.raw().clone()
        } else {
            chunk
                .bytes()
                .map_err(|e| WriteError::Unrecoverable(e.to_string()))?
        };
        let gz_needed = self.gzip && !chunk.is_gzip();
        let (append, perms) = (self.append, self.perms);
        tokio::task::block_in_place(|| {
            let path = if append {
                std::path::PathBuf::from(&template)
            } else {
                (0u64..)
                    .map(|i| {
                        std::path::PathBuf::from(template.replacen(".**", &format!(".{i}"), 1))
                    })
                    .find(|p| !p.exists())
                    .unwrap_or_else(|| template.clone().into())
            };
            if let Some(d) = path.parent() {
                perms.create_dir_all(d)?;
            }
            let mut f = perms.open_options().create(true).append(true).open(&path)?;
            use std::io::Write;
            if gz_needed {
                f.write_all(&logferry_compress::gzip(&data))
            } else {
                f.write_all(&data)
            }
        })
        .map_err(|e| WriteError::Retryable(format!("secondary_file {template}: {e}")))
    }
}
