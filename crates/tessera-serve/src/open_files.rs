//! Making room for the connections a server is allowed: each one holds a file descriptor.

use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};

/// Descriptors kept beside the connections: listeners, the database, log output, key files.
const HEADROOM: u64 = 256;

/// What [`ensure`] found and did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OpenFiles {
    /// The soft limit already had room for `wanted` descriptors.
    Enough,
    /// The soft limit was raised from `from` to `to` (at most the hard limit).
    Raised { from: u64, to: u64 },
    /// The hard limit (`limit`) leaves no room for `wanted`; connections beyond fail to be
    /// accepted (logged, retried) rather than being refused at the limit.
    Short { limit: u64, wanted: u64 },
}

/// Raises the process's soft limit on open files, within its hard limit, so that
/// `max_connections` connections fit beside the server's own descriptors, as Go's runtime and
/// nginx's `worker_rlimit_nofile` do; says what it did.
pub(crate) fn ensure(max_connections: usize) -> OpenFiles {
    let wanted = u64::try_from(max_connections)
        .unwrap_or(u64::MAX)
        .saturating_add(HEADROOM);
    let Rlimit { current, maximum } = getrlimit(Resource::Nofile);
    let Some(soft) = current else {
        return OpenFiles::Enough;
    };
    if soft >= wanted {
        return OpenFiles::Enough;
    }
    let to = maximum.map_or(wanted, |hard| hard.min(wanted));
    if to > soft
        && setrlimit(
            Resource::Nofile,
            Rlimit {
                current: Some(to),
                maximum,
            },
        )
        .is_ok()
    {
        if to >= wanted {
            return OpenFiles::Raised { from: soft, to };
        }
        return OpenFiles::Short { limit: to, wanted };
    }
    OpenFiles::Short {
        limit: soft,
        wanted,
    }
}

/// [`ensure`], with a log line when the limit changed or is too low.
pub(crate) fn ensure_logged(max_connections: usize) {
    match ensure(max_connections) {
        OpenFiles::Enough => {}
        OpenFiles::Raised { from, to } => {
            tracing::info!(
                from,
                to,
                "raised the open-files limit (RLIMIT_NOFILE) for the connection limit"
            );
        }
        OpenFiles::Short { limit, wanted } => tracing::warn!(
            limit,
            wanted,
            max_connections,
            "the open-files limit (ulimit -n) is below the connection limit plus the server's own files: raise it, or lower max_connections"
        ),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn the_soft_limit_makes_room_for_the_connections() {
        let before = getrlimit(Resource::Nofile);
        let hard = before.maximum.unwrap_or(u64::MAX);
        assert!(
            hard >= 2048,
            "this test needs a hard limit of 2048 open files or more"
        );
        // A soft limit of 512, as some systems start services with.
        let low = Rlimit {
            current: Some(512),
            maximum: before.maximum,
        };
        setrlimit(Resource::Nofile, low).unwrap();
        // Room enough is left alone.
        assert_eq!(ensure(100), OpenFiles::Enough);
        assert_eq!(getrlimit(Resource::Nofile), low);
        // Too little is raised, as far as needed.
        assert_eq!(
            ensure(1000),
            OpenFiles::Raised {
                from: 512,
                to: 1000 + HEADROOM
            }
        );
        assert_eq!(getrlimit(Resource::Nofile).current, Some(1000 + HEADROOM));
        // Beyond the hard limit: raised to it, and said to be short.
        if let Some(hard) = before.maximum {
            let wanted = usize::try_from(hard).unwrap();
            assert_eq!(
                ensure(wanted),
                OpenFiles::Short {
                    limit: hard,
                    wanted: hard + HEADROOM
                }
            );
        }
        setrlimit(Resource::Nofile, before).unwrap();
    }
}
