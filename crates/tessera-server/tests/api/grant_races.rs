//! Races between a grant being exchanged and a replay of what it exchanges (RFC 6749 §4.1.2,
//! RFC 9700 §4.2.4 and §4.14.2): a replay that lands while the first exchange is still issuing
//! must still end with every token issued from the replayed value revoked. Run on both backends,
//! in the order the requests' store operations would interleave; on PostgreSQL also with the two
//! sides really concurrent, one held open in its own transaction.

use crate::pg::{self, backends};
use sqlx::Connection;
use std::time::{Duration, Instant};
use tessera_server::model::now;
use tessera_server::store::Store;
use tessera_server::store::grants::{Claim, CodeRecord, IssuedAccess, RefreshFamily};
use tessera_server::users::User;

const USER: &str = "usr_race";

async fn with_user(store: &Store) {
    store
        .insert_user(&User {
            id: USER.into(),
            username: "race".into(),
            password_hash: None,
            email: String::new(),
            email_verified: false,
            display_name: "Race".into(),
            enabled: true,
            created_at: 1,
            updated_at: 1,
            password_changed_at: None,
            password_temporary: false,
            role: None,
        })
        .await
        .unwrap();
}

fn code(t: i64) -> CodeRecord {
    CodeRecord {
        client_id: "spa".into(),
        user_id: USER.into(),
        redirect_uri: "https://app.example/cb".into(),
        redirect_uri_sent: true,
        scope: "openid".into(),
        code_challenge: None,
        nonce: None,
        auth_time: t,
        created_at: t,
        expires_at: t + 60,
        used_at: None,
        access_jti: None,
        access_exp: None,
        family_id: None,
        resource: None,
    }
}

fn family(id: &str, t: i64) -> RefreshFamily {
    RefreshFamily {
        id: id.into(),
        client_id: "spa".into(),
        user_id: USER.into(),
        scope: "openid".into(),
        aud: "[]".into(),
        auth_time: t,
        created_at: t,
        absolute_expires_at: t + 3600,
        revoked_at: None,
    }
}

fn access(jti: &str, t: i64) -> IssuedAccess {
    IssuedAccess {
        jti: jti.into(),
        client_id: "spa".into(),
        exp: t + 600,
    }
}

#[tokio::test]
async fn a_code_replayed_while_its_exchange_issues_gets_those_tokens_revoked() {
    for (store, _dir) in backends().await {
        let b = store.backend();
        let t = now();
        with_user(&store).await;
        store.insert_code(b"code-1", &code(t)).await.unwrap();
        assert!(matches!(
            store.claim_code(b"code-1", t).await.unwrap(),
            Claim::Fresh(_)
        ));
        // The replay lands before the first exchange recorded its tokens: nothing to revoke yet.
        match store.claim_code(b"code-1", t).await.unwrap() {
            Claim::Replayed(r) => assert!(r.access_jti.is_none() && r.family_id.is_none(), "{b}"),
            other => panic!("{b}: {other:?}"),
        }
        // The first exchange goes on: it starts a refresh family, then records what it issued,
        // and learns that the code was replayed meanwhile: what it issued is revoked.
        let a1 = access("jti-code-1", t);
        store
            .insert_refresh_family(&family("rtf_code_1", t), b"rt-code-1", t + 600, &a1)
            .await
            .unwrap();
        let kept = store
            .record_code_tokens(b"code-1", &a1, Some("rtf_code_1"), t)
            .await
            .unwrap();
        assert!(!kept, "{b}: the exchange must not hand out its tokens");
        assert!(store.is_jwt_revoked("jti-code-1").await.unwrap(), "{b}");
        let (_, f) = store
            .refresh_family_of(b"rt-code-1")
            .await
            .unwrap()
            .unwrap();
        assert!(f.revoked_at.is_some(), "{b}: the refresh family is revoked");

        // Without a replay in between, the tokens are kept, and a later replay finds them.
        store.insert_code(b"code-2", &code(t)).await.unwrap();
        assert!(matches!(
            store.claim_code(b"code-2", t).await.unwrap(),
            Claim::Fresh(_)
        ));
        let a2 = access("jti-code-2", t);
        store
            .insert_refresh_family(&family("rtf_code_2", t), b"rt-code-2", t + 600, &a2)
            .await
            .unwrap();
        assert!(
            store
                .record_code_tokens(b"code-2", &a2, Some("rtf_code_2"), t)
                .await
                .unwrap(),
            "{b}"
        );
        assert!(!store.is_jwt_revoked("jti-code-2").await.unwrap(), "{b}");
        match store.claim_code(b"code-2", t).await.unwrap() {
            Claim::Replayed(r) => {
                assert_eq!(r.access_jti.as_deref(), Some("jti-code-2"), "{b}");
                assert_eq!(r.family_id.as_deref(), Some("rtf_code_2"), "{b}");
            }
            other => panic!("{b}: {other:?}"),
        }
    }
}

#[tokio::test]
async fn a_rotation_that_ends_after_reuse_was_detected_is_revoked() {
    for (store, _dir) in backends().await {
        let b = store.backend();
        let t = now();
        with_user(&store).await;
        let a1 = access("jti-rt-1", t);
        store
            .insert_refresh_family(&family("rtf_rot", t), b"rt-1", t + 600, &a1)
            .await
            .unwrap();
        // A rotation claims the token and is issuing...
        assert!(matches!(
            store.claim_refresh(b"rt-1", t).await.unwrap(),
            Claim::Fresh(_)
        ));
        // ...when the same token comes again: reuse, the family is revoked.
        assert!(matches!(
            store.claim_refresh(b"rt-1", t).await.unwrap(),
            Claim::Replayed(_)
        ));
        let revoked = store
            .revoke_families(Some("rtf_rot"), None, None, t)
            .await
            .unwrap();
        assert_eq!(revoked, vec![a1], "{b}");
        // The rotation now adds its token: refused, and its access token revoked.
        let a2 = access("jti-rt-2", t);
        let added = store
            .insert_refresh_token(b"rt-2", "rtf_rot", t, t + 600, &a2)
            .await
            .unwrap();
        assert!(!added, "{b}: no token is added to a revoked family");
        assert!(
            store.refresh_family_of(b"rt-2").await.unwrap().is_none(),
            "{b}"
        );
        assert!(store.is_jwt_revoked("jti-rt-2").await.unwrap(), "{b}");

        // A live family gets its next token, and nothing is revoked.
        let a3 = access("jti-rt-3", t);
        store
            .insert_refresh_family(&family("rtf_live", t), b"rt-3", t + 600, &a3)
            .await
            .unwrap();
        let a4 = access("jti-rt-4", t);
        assert!(
            store
                .insert_refresh_token(b"rt-4", "rtf_live", t, t + 600, &a4)
                .await
                .unwrap(),
            "{b}"
        );
        assert!(
            store.refresh_family_of(b"rt-4").await.unwrap().is_some(),
            "{b}"
        );
        assert!(!store.is_jwt_revoked("jti-rt-4").await.unwrap(), "{b}");
    }
}

/// Polls until a session of the database waits for a lock, failing after five seconds or when
/// `task` ended without waiting.
async fn until_a_lock_wait<T>(conn: &mut sqlx::PgConnection, task: &tokio::task::JoinHandle<T>) {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let (waiting,): (i64,) = sqlx::query_as(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'",
        )
        .fetch_one(&mut *conn)
        .await
        .unwrap();
        if waiting > 0 {
            return;
        }
        assert!(
            !task.is_finished(),
            "the store did not wait for the transaction in progress"
        );
        assert!(Instant::now() < deadline, "no lock wait within 5 s");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// PostgreSQL runs transactions concurrently (READ COMMITTED): each side must wait for the
/// other's row lock, so that one of them always sees what the other did.
#[tokio::test]
async fn on_postgresql_each_side_waits_for_the_other() {
    let url = pg::fresh_database().await;
    let store = Store::connect(&url, 4, Duration::from_secs(5))
        .await
        .unwrap();
    let mut other = sqlx::PgConnection::connect(&url).await.unwrap();
    let mut watcher = sqlx::PgConnection::connect(&url).await.unwrap();
    let t = now();
    with_user(&store).await;

    // A reuse revokes the family (uncommitted) while a rotation adds its token: the rotation
    // waits, then sees the revocation and revokes its own access token.
    let a1 = access("jti-pg-1", t);
    store
        .insert_refresh_family(&family("rtf_pg", t), b"pg-rt-1", t + 600, &a1)
        .await
        .unwrap();
    let mut tx = other.begin().await.unwrap();
    sqlx::query("UPDATE refresh_families SET revoked_at = $2 WHERE id = $1")
        .bind("rtf_pg")
        .bind(t)
        .execute(&mut *tx)
        .await
        .unwrap();
    let a2 = access("jti-pg-2", t);
    let rotation = {
        let (store, a2) = (store.clone(), a2.clone());
        tokio::spawn(async move {
            store
                .insert_refresh_token(b"pg-rt-2", "rtf_pg", t, t + 600, &a2)
                .await
        })
    };
    until_a_lock_wait(&mut watcher, &rotation).await;
    tx.commit().await.unwrap();
    assert!(!rotation.await.unwrap().unwrap());
    assert!(store.refresh_family_of(b"pg-rt-2").await.unwrap().is_none());
    assert!(store.is_jwt_revoked("jti-pg-2").await.unwrap());

    // A first exchange records its tokens (uncommitted) while a replay of its code comes: the
    // replay waits, then finds the tokens to revoke.
    store.insert_code(b"pg-code", &code(t)).await.unwrap();
    assert!(matches!(
        store.claim_code(b"pg-code", t).await.unwrap(),
        Claim::Fresh(_)
    ));
    let mut tx = other.begin().await.unwrap();
    sqlx::query("UPDATE authorization_codes SET access_jti = $2, access_exp = $3 WHERE hash = $1 AND replayed_at IS NULL")
        .bind(&b"pg-code"[..])
        .bind("jti-pg-3")
        .bind(t + 600)
        .execute(&mut *tx)
        .await
        .unwrap();
    let replay = {
        let store = store.clone();
        tokio::spawn(async move { store.claim_code(b"pg-code", t).await })
    };
    until_a_lock_wait(&mut watcher, &replay).await;
    tx.commit().await.unwrap();
    match replay.await.unwrap().unwrap() {
        Claim::Replayed(r) => assert_eq!(r.access_jti.as_deref(), Some("jti-pg-3")),
        other => panic!("{other:?}"),
    }

    // The other way round: a replay marks the code (uncommitted) while the first exchange
    // records: the exchange waits, then revokes what it issued.
    store.insert_code(b"pg-code-2", &code(t)).await.unwrap();
    assert!(matches!(
        store.claim_code(b"pg-code-2", t).await.unwrap(),
        Claim::Fresh(_)
    ));
    let mut tx = other.begin().await.unwrap();
    sqlx::query("UPDATE authorization_codes SET replayed_at = $2 WHERE hash = $1")
        .bind(&b"pg-code-2"[..])
        .bind(t)
        .execute(&mut *tx)
        .await
        .unwrap();
    let a4 = access("jti-pg-4", t);
    let record = {
        let (store, a4) = (store.clone(), a4.clone());
        tokio::spawn(async move { store.record_code_tokens(b"pg-code-2", &a4, None, t).await })
    };
    until_a_lock_wait(&mut watcher, &record).await;
    tx.commit().await.unwrap();
    assert!(!record.await.unwrap().unwrap());
    assert!(store.is_jwt_revoked("jti-pg-4").await.unwrap());
}
