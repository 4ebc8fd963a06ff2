//! A log writer that keeps formatting on the request path but moves the system calls off it:
//! lines are appended to an in-memory buffer and written to stderr by a background thread every
//! 50 ms (or as soon as 64 KiB are waiting). On a crash, at most the last 50 ms of log lines are
//! lost; nothing else depends on them.

use parking_lot::{Condvar, Mutex};
use std::io::Write;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

const FLUSH_EVERY: Duration = Duration::from_millis(50);
const FLUSH_AT: usize = 64 * 1024;

struct Shared {
    buf: Mutex<Vec<u8>>,
    wake: Condvar,
}

impl Shared {
    fn append(&self, data: &[u8]) {
        let mut buf = self.buf.lock();
        buf.extend_from_slice(data);
        if buf.len() >= FLUSH_AT {
            self.wake.notify_one();
        }
    }
}

/// A `MakeWriter` for `tracing_subscriber` writing to stderr through the shared buffer.
#[derive(Clone)]
pub struct BufferedStderr {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for BufferedStderr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BufferedStderr")
    }
}

static WRITER: OnceLock<BufferedStderr> = OnceLock::new();

impl BufferedStderr {
    /// The process-wide writer, starting its flushing thread on first use.
    pub fn global() -> Self {
        Self::global_ref().clone()
    }

    /// Starts the flushing thread.
    fn start() -> Self {
        let shared = Arc::new(Shared {
            buf: Mutex::new(Vec::with_capacity(FLUSH_AT)),
            wake: Condvar::new(),
        });
        let s = shared.clone();
        let _ = std::thread::Builder::new()
            .name("tessera-log".into())
            .spawn(move || {
                // Two buffers trade places: the one just written out goes back, emptied
                // but with its capacity, so appending a line seldom allocates.
                let mut chunk: Vec<u8> = Vec::with_capacity(FLUSH_AT);
                loop {
                    {
                        let mut buf = s.buf.lock();
                        if buf.is_empty() {
                            s.wake.wait_for(&mut buf, FLUSH_EVERY);
                        }
                        std::mem::swap(&mut *buf, &mut chunk);
                    }
                    if !chunk.is_empty() {
                        let mut err = std::io::stderr().lock();
                        let _ = err.write_all(&chunk);
                        let _ = err.flush();
                        chunk.clear();
                    }
                    std::thread::sleep(FLUSH_EVERY / 5);
                }
            });
        Self { shared }
    }

    /// The process-wide writer, borrowed (no reference count touched): for lines written per
    /// request.
    pub(crate) fn global_ref() -> &'static Self {
        WRITER.get_or_init(Self::start)
    }

    /// Appends bytes (whole lines) to what the background thread writes out.
    pub(crate) fn append(&self, data: &[u8]) {
        self.shared.append(data);
    }

    /// Writes out whatever is buffered (at shutdown).
    pub fn flush_now(&self) {
        let chunk = std::mem::take(&mut *self.shared.buf.lock());
        if !chunk.is_empty() {
            let mut err = std::io::stderr().lock();
            let _ = err.write_all(&chunk);
            let _ = err.flush();
        }
    }
}

/// One log event's writer (borrowing the shared buffer: no reference count touched per line).
pub struct LineWriter<'a> {
    shared: &'a Shared,
}

impl std::fmt::Debug for LineWriter<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LineWriter")
    }
}

impl Write for LineWriter<'_> {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.shared.append(data);
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for BufferedStderr {
    type Writer = LineWriter<'a>;

    fn make_writer(&'a self) -> Self::Writer {
        LineWriter {
            shared: &self.shared,
        }
    }
}
