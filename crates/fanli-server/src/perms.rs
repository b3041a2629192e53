//! The data folder is its owner's alone (issue 17): the folder and `snapshots/` are made 0700,
//! the store's files, the snapshots and the key files 0600, whatever the umask. A folder made
//! before this (world-readable) is tightened when the server opens it, and the log says so.
//! (Elsewhere than on Unix, files keep what the system gives them.)

use std::path::Path;

/// Makes `dir` (and its parents) if it is missing, 0700, and tightens what is in it: the
/// folder, `snapshots/` and every file in them to their owner alone.
pub fn private_dir(dir: &Path) -> std::io::Result<()> {
    make_dir(dir)?;
    #[cfg(unix)]
    {
        let mut tightened = Vec::new();
        tighten(dir, 0o700, &mut tightened)?;
        for folder in [dir.to_owned(), dir.join("snapshots")] {
            let Ok(entries) = std::fs::read_dir(&folder) else { continue };
            for entry in entries {
                let entry = entry?;
                let kind = entry.file_type()?;
                if kind.is_dir() && entry.file_name() == "snapshots" {
                    tighten(&entry.path(), 0o700, &mut tightened)?;
                } else if kind.is_file() {
                    tighten(&entry.path(), 0o600, &mut tightened)?;
                }
            }
        }
        if !tightened.is_empty() {
            tracing::warn!(
                dir = %dir.display(), files = tightened.len(), first = %tightened[0].display(),
                "the data folder was readable by others: now its owner's alone"
            );
        }
    }
    Ok(())
}

/// Makes `dir` and its missing parents, each 0700.
pub(crate) fn make_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

/// Opens `path` for writing, created 0600 if it is missing (truncated if `truncate`).
pub(crate) fn create_file(path: &Path, truncate: bool) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(truncate);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)
}

/// Sets `path`'s mode to `mode` if it lets anyone but its owner in; notes it in `tightened`.
#[cfg(unix)]
fn tighten(path: &Path, mode: u32, tightened: &mut Vec<std::path::PathBuf>) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let now = std::fs::metadata(path)?.permissions().mode() & 0o777;
    if now & 0o077 != 0 {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))?;
        tightened.push(path.to_owned());
    }
    Ok(())
}
