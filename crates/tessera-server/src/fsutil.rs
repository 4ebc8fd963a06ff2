//! Files and folders only their owner may read: the master key, the bootstrap credential, the
//! data folder and the SQLite database (password hashes, e-mail addresses, the audit log).

use std::io::Write;
use std::path::Path;

/// The mode of a private file: read and write for the owner only.
pub const PRIVATE_FILE: u32 = 0o600;

/// The mode of a private folder: the owner only.
pub const PRIVATE_DIR: u32 = 0o700;

/// Creates `path` and its missing parents with mode 0700 (on Unix); an existing folder is left as
/// it is (see [`tighten`]).
pub fn create_private_dir(path: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(PRIVATE_DIR);
    }
    builder.create(path)
}

/// Creates an empty file at `path` with mode 0600 (on Unix) unless something is there already.
/// An empty file is an empty SQLite database: SQLite then gives the `-wal` and `-shm` files it
/// creates beside it the same mode.
pub fn create_private_file(path: &Path) -> std::io::Result<()> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(PRIVATE_FILE);
    }
    match opts.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}

/// Takes from an existing `path` the permissions that `mode` does not grant (0644 under
/// [`PRIVATE_FILE`] becomes 0600), when it belongs to the user this process runs as, and logs the
/// change. Something absent, owned by another user, or already as narrow is left alone. Returns
/// whether the mode changed. For files and folders made by versions that did not create them
/// private.
pub fn tighten(path: &Path, mode: u32) -> std::io::Result<bool> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        let meta = match std::fs::metadata(path) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
            Err(e) => return Err(e),
        };
        let current = meta.mode() & 0o7777;
        if current & !mode == 0 {
            return Ok(false);
        }
        if meta.uid() != rustix::process::geteuid().as_raw() {
            tracing::warn!(
                path = %path.display(),
                mode = format_args!("{current:04o}"),
                "others may read this path, which belongs to another user: left as it is"
            );
            return Ok(false);
        }
        let narrowed = current & mode;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(narrowed))?;
        tracing::warn!(
            path = %path.display(),
            was = format_args!("{current:04o}"),
            now = format_args!("{narrowed:04o}"),
            "narrowed the permissions of a path others could read"
        );
        Ok(true)
    }
    #[cfg(not(unix))]
    {
        let _ = (path, mode);
        Ok(false)
    }
}

/// Writes `contents` to `path` with mode 0600 (on Unix), creating parent folders (mode 0700),
/// replacing the file atomically so a crash never leaves half a secret behind.
pub fn write_private(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    if let Some(parent) = path.parent()
        && !parent.as_os_str().is_empty()
    {
        create_private_dir(parent)?;
    }
    let tmp = path.with_extension("tmp");
    {
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(PRIVATE_FILE);
        }
        let mut f = opts.open(&tmp)?;
        f.write_all(contents)?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, path)
}

#[cfg(all(test, unix))]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn mode(p: &Path) -> u32 {
        std::fs::metadata(p).unwrap().permissions().mode() & 0o7777
    }

    #[test]
    fn private_paths_whatever_the_umask_allows() {
        let dir = tempfile::tempdir().unwrap();
        let nested = dir.path().join("a/b");
        create_private_dir(&nested).unwrap();
        assert_eq!(mode(&nested), 0o700);
        assert_eq!(mode(&dir.path().join("a")), 0o700);
        let file = nested.join("db");
        create_private_file(&file).unwrap();
        assert_eq!(mode(&file), 0o600);
        std::fs::write(&file, b"kept").unwrap();
        create_private_file(&file).unwrap();
        assert_eq!(std::fs::read(&file).unwrap(), b"kept");
    }

    #[test]
    fn tighten_takes_away_what_others_had() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("f");
        std::fs::write(&file, b"x").unwrap();
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o664)).unwrap();
        assert!(tighten(&file, PRIVATE_FILE).unwrap());
        assert_eq!(mode(&file), 0o600);
        assert!(!tighten(&file, PRIVATE_FILE).unwrap());
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o400)).unwrap();
        assert!(!tighten(&file, PRIVATE_FILE).unwrap());
        assert_eq!(mode(&file), 0o400);
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        assert!(tighten(dir.path(), PRIVATE_DIR).unwrap());
        assert_eq!(mode(dir.path()), 0o700);
        assert!(!tighten(&dir.path().join("absent"), PRIVATE_FILE).unwrap());
    }
}
