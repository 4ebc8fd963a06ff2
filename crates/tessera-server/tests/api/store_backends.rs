//! The store's operations, run against both backends: a SQLite file and a fresh PostgreSQL database.

use crate::pg::backends;
use tessera_proto::{ClientAuthMethod, GrantType};
use tessera_server::model::{AuditEvent, Client, Scope, StoredKey, StoredSecret, StoredToken};
use tessera_server::store::{AuditQuery, StoreError};

fn client(id: &str) -> Client {
    Client {
        client_id: id.into(),
        name: format!("name {id}"),
        description: "d".into(),
        enabled: true,
        grant_types: vec![GrantType::ClientCredentials],
        redirect_uris: vec![],
        allowed_scopes: vec!["core.a.read".into()],
        default_scopes: vec![],
        token_endpoint_auth_methods: vec![ClientAuthMethod::ClientSecretBasic],
        token_endpoint_auth_signing_alg: None,
        jwks: None,
        jwks_uri: None,
        access_token_format: None,
        access_token_lifetime: Some(60),
        access_token_signing_alg: None,
        audiences: vec!["https://api/".into()],
        require_pkce: None,
        extra_claims: Default::default(),
        created_at: 100,
        updated_at: 100,
    }
}

fn secret(id: &str, client_id: &str, created: i64) -> StoredSecret {
    StoredSecret {
        id: id.into(),
        client_id: client_id.into(),
        hash: vec![1, 2, 3, id.len() as u8],
        encrypted: Some(vec![9, 9]),
        created_at: created,
        expires_at: None,
        imported: false,
    }
}

#[tokio::test]
async fn scopes_clients_and_secrets() {
    for (store, _dir) in backends().await {
        let b = store.backend();
        let s = Scope {
            name: "core.a.read".into(),
            description: "x".into(),
            permissions: vec!["GET /a".into()],
            created_at: 1,
            updated_at: 1,
        };
        store.insert_scope(&s).await.unwrap();
        assert!(
            matches!(store.insert_scope(&s).await, Err(StoreError::Conflict)),
            "{b}"
        );
        let mut s2 = s.clone();
        s2.description = "y".into();
        store.update_scope(&s2).await.unwrap();
        assert_eq!(
            store.get_scope("core.a.read").await.unwrap().description,
            "y"
        );
        assert_eq!(store.list_scopes().await.unwrap().len(), 1);
        assert!(matches!(
            store.get_scope("nope").await,
            Err(StoreError::NotFound)
        ));

        let c = client("c:1 é");
        store
            .insert_client(&c, Some(&secret("s1", &c.client_id, 10)))
            .await
            .unwrap();
        assert!(
            matches!(
                store.insert_client(&c, None).await,
                Err(StoreError::Conflict)
            ),
            "{b}"
        );
        assert_eq!(store.get_client(&c.client_id).await.unwrap(), c, "{b}");
        let mut c2 = c.clone();
        c2.enabled = false;
        c2.updated_at = 200;
        store.update_client(&c2).await.unwrap();
        assert_eq!(store.get_client(&c.client_id).await.unwrap(), c2);
        assert_eq!(
            store.client_secrets(&c.client_id, 50).await.unwrap().len(),
            1
        );
        // Rotation with a grace period: both valid until the old one expires.
        let mut s2 = secret("s2", &c.client_id, 60);
        s2.encrypted = None;
        store.rotate_client_secret(&s2, 100).await.unwrap();
        let live = store.client_secrets(&c.client_id, 70).await.unwrap();
        assert_eq!(live.len(), 2, "{b}");
        assert_eq!(
            store.client_secrets(&c.client_id, 100).await.unwrap().len(),
            1,
            "{b}"
        );
        assert_eq!(store.all_client_secrets(70).await.unwrap().len(), 2);
        assert!(matches!(
            store
                .rotate_client_secret(&secret("s3", "ghost", 1), 1)
                .await,
            Err(StoreError::NotFound)
        ));
        store.delete_client(&c.client_id).await.unwrap();
        assert!(matches!(
            store.get_client(&c.client_id).await,
            Err(StoreError::NotFound)
        ));
        assert!(
            store
                .client_secrets(&c.client_id, 0)
                .await
                .unwrap()
                .is_empty()
        );
        store.delete_scope("core.a.read").await.unwrap();
        assert!(matches!(
            store.delete_scope("core.a.read").await,
            Err(StoreError::NotFound)
        ));
    }
}

#[tokio::test]
async fn keys_tokens_revocations_assertions_leases_and_audit() {
    for (store, _dir) in backends().await {
        let b = store.backend();
        let k = StoredKey {
            kid: "k1".into(),
            alg: "ES256".into(),
            encrypted_pkcs8: vec![1, 2, 3],
            public_jwk: "{}".into(),
            created_at: 10,
            activates_at: 10,
            retired_at: None,
            remove_at: None,
        };
        store.insert_key(&k).await.unwrap();
        store.retire_key("k1", 20, 30).await.unwrap();
        assert_eq!(store.list_keys(25).await.unwrap().len(), 1);
        assert!(
            store.list_keys(31).await.unwrap().is_empty(),
            "{b}: removed keys are not listed"
        );

        let t = StoredToken {
            hash: vec![7; 32],
            jti: "j".into(),
            client_id: "c".into(),
            sub: "c".into(),
            scope: "a".into(),
            aud: "[]".into(),
            iat: 1,
            exp: 1000,
            revoked: false,
            extra: "{}".into(),
        };
        let mut t2 = t.clone();
        t2.hash = vec![8; 32];
        t2.jti = "j2".into();
        store.insert_tokens(&[t.clone(), t2]).await.unwrap();
        assert!(!store.get_token(&[7; 32]).await.unwrap().unwrap().revoked);
        store.revoke_token(&[7; 32]).await.unwrap();
        assert!(
            store.get_token(&[7; 32]).await.unwrap().unwrap().revoked,
            "{b}"
        );
        assert!(store.get_token(&[0; 32]).await.unwrap().is_none());

        store.revoke_jwt("jj", "c", 1000).await.unwrap();
        store.revoke_jwt("jj", "c", 1000).await.unwrap();
        assert!(store.is_jwt_revoked("jj").await.unwrap());
        assert!(!store.is_jwt_revoked("other").await.unwrap());

        assert!(store.use_assertion("c", "a1", 1000).await.unwrap());
        assert!(
            !store.use_assertion("c", "a1", 1000).await.unwrap(),
            "{b}: replay"
        );
        assert!(store.use_assertion("d", "a1", 1000).await.unwrap());

        assert!(store.try_lease("l", "x", 0, 100).await.unwrap());
        assert!(
            !store.try_lease("l", "y", 50, 150).await.unwrap(),
            "{b}: held by x"
        );
        assert!(store.try_lease("l", "x", 50, 150).await.unwrap(), "renewal");
        assert!(
            store.try_lease("l", "y", 200, 300).await.unwrap(),
            "{b}: expired lease taken over"
        );
        store.release_lease("l", "y").await.unwrap();
        assert!(store.try_lease("l", "z", 210, 300).await.unwrap());

        assert!(store.purge_expired(5000).await.unwrap() >= 3, "{b}");
        assert!(store.get_token(&[8; 32]).await.unwrap().is_none());

        for i in 0..3 {
            store
                .append_audit(&AuditEvent {
                    id: 0,
                    at: i,
                    actor: "me".into(),
                    action: if i == 2 {
                        "scope.create".into()
                    } else {
                        "client.create".into()
                    },
                    target: format!("t{i}"),
                    before: None,
                    after: Some(serde_json::json!({"i": i})),
                    remote_addr: Some("127.0.0.1".into()),
                })
                .await
                .unwrap();
        }
        let all = store.list_audit(&AuditQuery::default()).await.unwrap();
        assert_eq!(all.len(), 3);
        assert!(all[0].id > all[1].id, "newest first");
        let clients = store
            .list_audit(&AuditQuery {
                action: Some("client.".into()),
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(clients.len(), 2, "{b}");
        let one = store
            .list_audit(&AuditQuery {
                target: Some("t1".into()),
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(one.len(), 1);
        assert_eq!(one[0].after, Some(serde_json::json!({"i": 1})));
        let paged = store
            .list_audit(&AuditQuery {
                before_id: Some(all[0].id),
                limit: Some(1),
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(paged.len(), 1);
        assert_eq!(paged[0].id, all[1].id);
        store.ping().await.unwrap();
    }
}

/// A batch of opaque tokens is written whole, whatever its size (SQLite writes it as a few
/// multi-row statements of 64, 16, 4 and 1 rows), every row with its own values; a batch with a
/// duplicate writes nothing.
#[tokio::test]
async fn token_batches_of_any_size_are_stored_whole() {
    let token = |i: usize| StoredToken {
        hash: format!("{i:032}").into_bytes(),
        jti: format!("jti-{i}"),
        client_id: format!("c{}", i % 3),
        sub: format!("s{i}"),
        scope: format!("core.s{i}.read"),
        aud: format!("[\"https://api/{i}\"]"),
        iat: i as i64,
        exp: 10_000 + i as i64,
        revoked: i.is_multiple_of(2),
        extra: format!("{{\"n\":{i}}}"),
    };
    for (store, _dir) in backends().await {
        let b = store.backend();
        let batch: Vec<StoredToken> = (0..64 + 2 * 16 + 3 * 4 + 1).map(token).collect();
        store.insert_tokens(&batch).await.unwrap();
        for t in &batch {
            let got = store.get_token(&t.hash).await.unwrap();
            assert_eq!(got.as_ref(), Some(t), "{b}: token {}", t.jti);
        }
        // The last row repeats the first hash: the whole batch is refused, none of it stored.
        let mut bad: Vec<StoredToken> = (1000..1005).map(token).collect();
        bad.push(batch[0].clone());
        assert!(store.insert_tokens(&bad).await.is_err(), "{b}");
        assert_eq!(store.get_token(&bad[0].hash).await.unwrap(), None, "{b}");
    }
}

/// Many writers racing on one small pool: SQLite's lost write races (`SQLITE_BUSY_SNAPSHOT`) are
/// retried by the store, so every operation succeeds on both backends and each rotation is kept.
#[tokio::test]
async fn racing_writers_all_succeed() {
    for (store, _dir) in backends().await {
        store
            .insert_client(&client("racer"), Some(&secret("s0", "racer", 1)))
            .await
            .unwrap();
        let mut tasks = Vec::new();
        for i in 0..40 {
            let store = store.clone();
            tasks.push(tokio::spawn(async move {
                let mut c = client("racer");
                c.name = format!("racer {i}");
                c.updated_at = 200 + i;
                store.update_client(&c).await?;
                store
                    .rotate_client_secret(&secret(&format!("s{}", i + 1), "racer", 10 + i), 5)
                    .await?;
                store
                    .append_audit(&AuditEvent {
                        id: 0,
                        at: 300 + i,
                        actor: "racer".into(),
                        action: "client.update".into(),
                        target: "racer".into(),
                        before: None,
                        after: None,
                        remote_addr: None,
                    })
                    .await
            }));
        }
        for t in tasks {
            t.await.unwrap().unwrap();
        }
        let audit = store
            .list_audit(&AuditQuery {
                target: Some("racer".into()),
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(audit.len(), 40);
    }
}

/// Migration 0013 on both backends: a registration stored with the single
/// `token_endpoint_auth_method` becomes a one-item `token_endpoint_auth_methods` list (the
/// client keeps exactly its method), and secrets stored before it are not imported ones.
#[tokio::test]
async fn migration_0013_turns_the_single_method_into_a_list() {
    use sqlx::Connection;
    use std::time::Duration;
    use tessera_server::store::Store;
    let old = serde_json::json!({
        "client_id": "old", "name": "old", "enabled": true,
        "grant_types": ["client_credentials"],
        "token_endpoint_auth_method": "client_secret_post",
    })
    .to_string();
    let insert_client = "INSERT INTO clients (client_id, name, description, enabled, data, created_at, updated_at) VALUES ('old', 'old', '', TRUE, $1, 1, 1)";
    let insert_secret =
        "INSERT INTO client_secrets (id, client_id, hash, created_at) VALUES ('s', 'old', $1, 1)";
    let dir = tempfile::tempdir().unwrap();
    let sqlite_url = format!("sqlite://{}", dir.path().join("m.db").display());
    let pg_url = crate::pg::fresh_database().await;
    for url in [sqlite_url, pg_url] {
        if url.starts_with("sqlite") {
            let m = sqlx::migrate!("./migrations/sqlite");
            let opts = sqlx::sqlite::SqliteConnectOptions::new()
                .filename(url.trim_start_matches("sqlite://"))
                .create_if_missing(true);
            let mut c = sqlx::SqliteConnection::connect_with(&opts).await.unwrap();
            m.run_to(12, &mut c).await.unwrap();
            sqlx::query(insert_client)
                .bind(&old)
                .execute(&mut c)
                .await
                .unwrap();
            sqlx::query(insert_secret)
                .bind(&b"h"[..])
                .execute(&mut c)
                .await
                .unwrap();
            c.close().await.unwrap();
        } else {
            let m = sqlx::migrate!("./migrations/postgres");
            let mut c = sqlx::PgConnection::connect(&url).await.unwrap();
            m.run_to(12, &mut c).await.unwrap();
            sqlx::query(insert_client)
                .bind(&old)
                .execute(&mut c)
                .await
                .unwrap();
            sqlx::query(insert_secret)
                .bind(&b"h"[..])
                .execute(&mut c)
                .await
                .unwrap();
            c.close().await.unwrap();
        }
        let store = Store::connect(&url, 2, Duration::from_secs(5))
            .await
            .unwrap();
        let b = store.backend();
        let c = store.get_client("old").await.unwrap();
        assert_eq!(
            c.token_endpoint_auth_methods,
            [ClientAuthMethod::ClientSecretPost],
            "{b}"
        );
        assert_eq!(c.require_pkce, None, "{b}");
        let secrets = store.client_secrets("old", 0).await.unwrap();
        assert_eq!(secrets.len(), 1, "{b}");
        assert!(!secrets[0].imported, "{b}");
        store.close().await;
    }
}

#[tokio::test]
async fn clients_last_used_moves_only_forward_and_sorts_the_console_table() {
    use tessera_server::store::console_clients::{ClientPageQuery, ClientSort};
    for (store, _dir) in backends().await {
        let b = store.backend();
        for id in ["a", "b", "c"] {
            store.insert_client(&client(id), None).await.unwrap();
        }
        assert_eq!(store.client_last_used("a").await.unwrap(), None, "{b}");
        let used = [
            ("a".to_owned(), 500),
            ("b".to_owned(), 300),
            ("gone".to_owned(), 900),
        ];
        assert_eq!(
            store.record_clients_last_used(&used).await.unwrap(),
            2,
            "{b}"
        );
        // Another instance's older time leaves it; a later one moves it.
        let later = [("a".to_owned(), 400), ("b".to_owned(), 350)];
        assert_eq!(
            store.record_clients_last_used(&later).await.unwrap(),
            1,
            "{b}"
        );
        assert_eq!(store.client_last_used("a").await.unwrap(), Some(500), "{b}");
        assert_eq!(store.client_last_used("b").await.unwrap(), Some(350), "{b}");
        // A change of registration keeps it.
        let mut a = client("a");
        a.name = "renamed".into();
        store.update_client(&a).await.unwrap();
        assert_eq!(store.client_last_used("a").await.unwrap(), Some(500), "{b}");
        let page = |descending| ClientPageQuery {
            search: String::new(),
            enabled: None,
            grant_type: None,
            sort: ClientSort::LastUsed,
            descending,
            limit: 10,
            offset: 0,
        };
        let p = store.console_client_page(&page(true)).await.unwrap();
        let order: Vec<(&str, Option<i64>)> = p
            .clients
            .iter()
            .map(|l| (l.client.client_id.as_str(), l.last_used_at))
            .collect();
        assert_eq!(
            order,
            [("a", Some(500)), ("b", Some(350)), ("c", None)],
            "{b}"
        );
        let p = store.console_client_page(&page(false)).await.unwrap();
        assert_eq!(
            p.clients[0].client.client_id, "c",
            "{b}: never used sorts first"
        );
    }
}
