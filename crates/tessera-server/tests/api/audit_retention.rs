//! `[audit]`: failures are deleted once older than `failure_retention_secs`, every event once
//! older than `retention_secs` (`0`: never), a batch at a time; newer events and, by default,
//! everything but failures stay. The servers here keep everything themselves (both settings `0`),
//! so that their own housekeeping never races the purges the tests run.

use crate::helpers::{TestApp, spawn_app_with};
use tessera_server::audit_retention::{AuditConfig, PURGE_BATCH, purge};
use tessera_server::model::{AuditEvent, now};
use tessera_server::store::AuditQuery;

/// A server whose own housekeeping deletes no audit event.
async fn keeping_everything() -> TestApp {
    spawn_app_with(|c| {
        c.audit = AuditConfig {
            retention_secs: 0,
            failure_retention_secs: 0,
        }
    })
    .await
}

const DAY: i64 = 24 * 3600;

async fn append(app: &TestApp, action: &str, age_days: i64, n: usize) {
    for _ in 0..n {
        app.state
            .store
            .append_audit(&AuditEvent {
                id: 0,
                at: now() - age_days * DAY,
                actor: "anonymous".into(),
                action: action.into(),
                target: format!("{action}-{age_days}"),
                before: None,
                after: None,
                remote_addr: Some("192.0.2.1".into()),
            })
            .await
            .unwrap();
    }
}

/// How many events of `action` the log holds, of the given age.
async fn count(app: &TestApp, action: &str, age_days: i64) -> usize {
    app.state
        .store
        .list_audit(&AuditQuery {
            action: Some(action.into()),
            target: Some(format!("{action}-{age_days}")),
            limit: Some(1000),
            ..Default::default()
        })
        .await
        .unwrap()
        .len()
}

#[tokio::test]
async fn old_failures_go_first_and_everything_old_goes_when_set() {
    let app = keeping_everything().await;
    // Failures kept 30 days, the rest for ever (the default for the rest).
    let failures_30_days = AuditConfig {
        failure_retention_secs: 30 * 86_400,
        ..AuditConfig::default()
    };
    append(&app, "client.auth_failed", 40, 3).await;
    append(&app, "user.login_failed", 40, 2).await;
    append(&app, "client.auth_failed", 10, 2).await;
    append(&app, "client.update", 400, 1).await;
    append(&app, "code.replayed", 40, 1).await;
    assert_eq!(purge(&app.state.store, &failures_30_days).await.unwrap(), 5);
    assert_eq!(count(&app, "client.auth_failed", 40).await, 0);
    assert_eq!(count(&app, "user.login_failed", 40).await, 0);
    assert_eq!(count(&app, "client.auth_failed", 10).await, 2);
    assert_eq!(count(&app, "client.update", 400).await, 1);
    assert_eq!(count(&app, "code.replayed", 40).await, 1);
    assert_eq!(
        purge(&app.state.store, &failures_30_days).await.unwrap(),
        0,
        "nothing left to delete"
    );
    // Everything kept a year (failures 90 days, the default): the change of 400 days goes, the
    // replay of 40 days stays, the failure of 100 days goes.
    let a_year = AuditConfig {
        retention_secs: 365 * 86_400,
        ..AuditConfig::default()
    };
    append(&app, "client.auth_failed", 100, 1).await;
    assert_eq!(purge(&app.state.store, &a_year).await.unwrap(), 2);
    assert_eq!(count(&app, "client.update", 400).await, 0);
    assert_eq!(count(&app, "code.replayed", 40).await, 1);
    assert_eq!(count(&app, "client.auth_failed", 100).await, 0);
}

#[tokio::test]
async fn a_backlog_larger_than_a_batch_is_deleted_whole() {
    let app = keeping_everything().await;
    let rows = usize::try_from(PURGE_BATCH).unwrap() + 7;
    // Many rows at once: one statement each would take long, so they go in through the store.
    for _ in 0..rows / 500 + 1 {
        append(&app, "client.auth_failed", 100, 500).await;
    }
    let written = (rows / 500 + 1) * 500;
    assert_eq!(
        purge(&app.state.store, &AuditConfig::default())
            .await
            .unwrap(),
        written as u64
    );
    assert_eq!(count(&app, "client.auth_failed", 100).await, 0);
}
