//! Serving threads: one single-threaded runtime per thread, fed connections by an acceptor.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot};

/// The number of cores this process may run on: how many serving threads to start.
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
}

/// Counts a connection as open on its serving thread until dropped; the handler keeps it for as
/// long as it serves the connection, so new connections go to the least busy thread.
#[derive(Debug)]
pub struct OpenConnection(Arc<AtomicUsize>);

impl Drop for OpenConnection {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// A connection on its way to a serving thread (taken off the acceptor's runtime).
type Handed = (std::net::TcpStream, SocketAddr);

/// Where [`ServingThreads::hand`] sends a connection: a thread's queue and its count of open
/// connections.
struct Worker {
    queue: mpsc::UnboundedSender<Handed>,
    open: Arc<AtomicUsize>,
}

/// A running serving thread.
struct Thread {
    /// Completes once the thread has stopped taking connections and dropped its handler.
    accepting: oneshot::Receiver<()>,
    /// Sent (or dropped) to end the thread and its runtime.
    exit: oneshot::Sender<()>,
    handle: std::thread::JoinHandle<()>,
}

/// Threads that each serve the connections handed to them on their own single-threaded runtime.
///
/// Lifecycle: [`start`](Self::start), [`hand`](Self::hand) each accepted connection over,
/// [`stop_accepting`](Self::stop_accepting) when shutting down (open connections keep being
/// served), then [`exit`](Self::exit) once they are done or the grace period is over. Dropping
/// it ends the threads too, without waiting for them.
pub struct ServingThreads {
    workers: Vec<Worker>,
    threads: Vec<Thread>,
}

impl std::fmt::Debug for ServingThreads {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServingThreads")
            .field("threads", &self.threads.len())
            .finish_non_exhaustive()
    }
}

impl ServingThreads {
    /// Starts `count` threads named `{name}-{index}`. Each runs `on_start(index)` first, then
    /// calls `serve` on its own runtime for every connection handed to it; `serve` must not
    /// block: it spawns a task for the connection (with `tokio::spawn`, which runs it on that
    /// thread) and keeps the [`OpenConnection`] in it until the connection ends.
    pub fn start<S, F>(count: usize, name: &str, on_start: S, serve: F) -> std::io::Result<Self>
    where
        S: Fn(usize) + Send + Sync + 'static,
        F: Fn(TcpStream, SocketAddr, OpenConnection) + Send + Sync + 'static,
    {
        let (on_start, serve) = (Arc::new(on_start), Arc::new(serve));
        let mut this = Self {
            workers: Vec::with_capacity(count),
            threads: Vec::with_capacity(count),
        };
        for index in 0..count.max(1) {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                // Answers held by `batch::hold` go out when the thread runs out of work.
                .on_thread_park(crate::batch::release)
                .build()?;
            let (queue, mut handed) = mpsc::unbounded_channel::<Handed>();
            let open = Arc::new(AtomicUsize::new(0));
            let (accepting_tx, accepting) = oneshot::channel::<()>();
            let (exit, exit_rx) = oneshot::channel::<()>();
            let (on_start, serve, counter) =
                (Arc::clone(&on_start), Arc::clone(&serve), Arc::clone(&open));
            let handle = std::thread::Builder::new()
                .name(format!("{name}-{index}"))
                .spawn(move || {
                    crate::batch::enable_on_this_thread();
                    on_start(index);
                    drop(on_start);
                    runtime.block_on(async move {
                        while let Some((stream, peer)) = handed.recv().await {
                            let open = OpenConnection(Arc::clone(&counter));
                            match TcpStream::from_std(stream) {
                                Ok(stream) => serve(stream, peer, open),
                                Err(e) => {
                                    tracing::warn!(error = %e, %peer, "a connection could not be taken over");
                                }
                            }
                        }
                        // Whatever the handler holds (a graceful-shutdown tracker, say) is
                        // released before the owner is told this thread takes no more.
                        drop(serve);
                        drop(accepting_tx);
                        let _ = exit_rx.await;
                    });
                })?;
            this.workers.push(Worker { queue, open });
            this.threads.push(Thread {
                accepting,
                exit,
                handle,
            });
        }
        Ok(this)
    }

    /// Hands `stream` to the thread with the fewest open connections.
    pub fn hand(&self, stream: TcpStream, peer: SocketAddr) {
        let Some(worker) = self
            .workers
            .iter()
            .min_by_key(|w| w.open.load(Ordering::Relaxed))
        else {
            return;
        };
        match stream.into_std() {
            Ok(stream) => {
                worker.open.fetch_add(1, Ordering::Relaxed);
                if worker.queue.send((stream, peer)).is_err() {
                    worker.open.fetch_sub(1, Ordering::Relaxed);
                    tracing::warn!(%peer, "a serving thread has stopped; connection dropped");
                }
            }
            Err(e) => tracing::warn!(error = %e, %peer, "a connection could not be handed over"),
        }
    }

    /// Stops handing out connections and waits until every thread has taken the ones already
    /// handed to it and dropped its handler. Connections being served stay open.
    pub async fn stop_accepting(&mut self) {
        self.workers.clear();
        for t in &mut self.threads {
            let _ = (&mut t.accepting).await;
        }
    }

    /// Ends every thread (a connection still open is dropped with its runtime) and waits for
    /// them to finish.
    pub async fn exit(mut self) {
        self.workers.clear();
        let threads = std::mem::take(&mut self.threads);
        let handles: Vec<_> = threads
            .into_iter()
            .map(|t| {
                let _ = t.exit.send(());
                t.handle
            })
            .collect();
        let joined = tokio::task::spawn_blocking(move || {
            for h in handles {
                if h.join().is_err() {
                    tracing::error!("a serving thread panicked");
                }
            }
        });
        let _ = joined.await;
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    /// Echoes one byte: the name of the thread that served the connection.
    fn thread_namer(stream: TcpStream, _: SocketAddr, open: OpenConnection) {
        tokio::spawn(async move {
            let mut stream = stream;
            let mut b = [0u8; 1];
            if stream.read_exact(&mut b).await.is_ok() {
                let name = std::thread::current().name().unwrap_or("?").to_owned();
                let _ = stream.write_all(name.as_bytes()).await;
                let _ = stream.shutdown().await;
            }
            drop(open);
        });
    }

    async fn ask(addr: SocketAddr) -> String {
        let mut s = TcpStream::connect(addr).await.unwrap();
        s.write_all(b"?").await.unwrap();
        let mut name = String::new();
        s.read_to_string(&mut name).await.unwrap();
        name
    }

    #[tokio::test]
    async fn connections_are_spread_over_the_threads_and_served_there() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let started = Arc::new(AtomicUsize::new(0));
        let s = Arc::clone(&started);
        let mut threads = ServingThreads::start(
            2,
            "t",
            move |_| {
                s.fetch_add(1, Ordering::Relaxed);
            },
            thread_namer,
        )
        .unwrap();
        // Two connections held open at once go to different threads.
        let first = TcpStream::connect(addr).await.unwrap();
        let (a, pa) = listener.accept().await.unwrap();
        threads.hand(a, pa);
        let second = TcpStream::connect(addr).await.unwrap();
        let (b, pb) = listener.accept().await.unwrap();
        threads.hand(b, pb);
        let mut names = Vec::new();
        for mut s in [first, second] {
            s.write_all(b"?").await.unwrap();
            let mut name = String::new();
            s.read_to_string(&mut name).await.unwrap();
            names.push(name);
        }
        names.sort();
        assert_eq!(names, ["t-0", "t-1"]);
        assert_eq!(started.load(Ordering::Relaxed), 2);
        // After stop_accepting the handler is gone from every thread; exit joins them.
        threads.stop_accepting().await;
        threads.exit().await;
    }

    #[tokio::test]
    async fn an_open_connection_is_served_after_accepting_stops() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let mut threads = ServingThreads::start(1, "u", |_| {}, thread_namer).unwrap();
        let pending = tokio::spawn(ask(addr));
        let (a, pa) = listener.accept().await.unwrap();
        threads.hand(a, pa);
        threads.stop_accepting().await;
        assert_eq!(pending.await.unwrap(), "u-0");
        threads.exit().await;
    }
}
