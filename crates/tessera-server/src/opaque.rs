//! Opaque access tokens are written by one task that commits many at once (group commit): every
//! caller waits until its token is durable, and one commit serves all tokens that queued meanwhile.

use crate::model::StoredToken;
use crate::store::{Store, StoreError};
use tokio::sync::{mpsc, oneshot};

const MAX_BATCH: usize = 512;

type Job = (StoredToken, oneshot::Sender<Result<(), String>>);

/// The handle to the writer task.
#[derive(Debug, Clone)]
pub struct OpaqueWriter {
    tx: mpsc::Sender<Job>,
}

impl OpaqueWriter {
    /// Starts the writer on `store`.
    pub fn start(store: Store) -> Self {
        let (tx, mut rx) = mpsc::channel::<Job>(8192);
        tokio::spawn(async move {
            let mut batch: Vec<Job> = Vec::with_capacity(MAX_BATCH);
            while let Some(first) = rx.recv().await {
                batch.push(first);
                while batch.len() < MAX_BATCH {
                    match rx.try_recv() {
                        Ok(j) => batch.push(j),
                        Err(_) => break,
                    }
                }
                let rows: Vec<StoredToken> = batch.iter().map(|(t, _)| t.clone()).collect();
                let result = store.insert_tokens(&rows).await;
                let outcome = result.map_err(|e| match e {
                    StoreError::Unavailable(m) => format!("unavailable:{m}"),
                    other => other.to_string(),
                });
                for (_, done) in batch.drain(..) {
                    let _ = done.send(outcome.clone());
                }
            }
        });
        Self { tx }
    }

    /// Stores `token` and returns once it is committed.
    pub async fn write(&self, token: StoredToken) -> Result<(), StoreError> {
        let (done, wait) = oneshot::channel();
        self.tx
            .send((token, done))
            .await
            .map_err(|_| StoreError::Unavailable("the token writer stopped".into()))?;
        match wait.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(m)) => match m.strip_prefix("unavailable:") {
                Some(rest) => Err(StoreError::Unavailable(rest.to_owned())),
                None => Err(StoreError::Other(m)),
            },
            Err(_) => Err(StoreError::Unavailable("the token writer stopped".into())),
        }
    }
}
