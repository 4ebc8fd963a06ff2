//! The buffer a line is written into before it goes, in one piece, to the writer
//! `tracing_subscriber` hands the formatter. That writer forwards every write through a
//! `dyn fmt::Write`, a call per character written; into a `String` the compiler can see, a
//! character is a few instructions. For the gateway's access line this halved the formatting's
//! cost (`bench/gateway-instructions.sh`).

use std::cell::RefCell;
use std::fmt;
use tracing_subscriber::fmt::format::Writer;

/// A line longer than this does not keep its buffer's capacity for the next one.
const KEPT_CAPACITY: usize = 4096;

thread_local! {
    static LINE: RefCell<String> = RefCell::new(String::with_capacity(512));
}

/// Writes the line `write` makes into this thread's buffer, then the buffer into `out`.
pub(crate) fn buffered(
    out: &mut Writer<'_>,
    write: impl FnOnce(&mut String) -> fmt::Result,
) -> fmt::Result {
    with_buffer(write, |line| out.write_str(line))
}

/// Has `write` make the line in this thread's buffer, then hands it whole to `then`.
pub(crate) fn with_buffer(
    write: impl FnOnce(&mut String) -> fmt::Result,
    then: impl FnOnce(&str) -> fmt::Result,
) -> fmt::Result {
    LINE.with(|cell| match cell.try_borrow_mut() {
        Ok(mut line) => {
            line.clear();
            let written = write(&mut line).and_then(|()| then(&line));
            if line.capacity() > KEPT_CAPACITY {
                *line = String::with_capacity(512);
            }
            written
        }
        // A value's `Debug` logged while its own line was being written.
        Err(_) => {
            let mut line = String::new();
            write(&mut line)?;
            then(&line)
        }
    })
}
