//! The usual scene: Tessera, an upstream API that accepts Tessera's tokens for its audience, and
//! a gateway configuration that puts the gateway client's token on requests to it.

use crate::gw::ConfigDir;
use crate::tessera::{ClientSpec, Tessera, tessera_with};
use crate::upstream::{Upstream, upstream_api};

pub const BILLING_AUD: &str = "https://billing.example/";
pub const GATEWAY_AUD: &str = "https://gateway.example/";
pub const BILLING_SCOPE: &str = "core.accounting.read";
pub const CALL_SCOPE: &str = "gw.billing.call";

pub struct World {
    pub tessera: Tessera,
    pub api: Upstream,
    pub dir: ConfigDir,
    pub gateway_secret: String,
    pub secret_file: std::path::PathBuf,
    /// The gateway's client id, unique per world (the server's metrics are process-wide).
    pub gateway_id: String,
    callers: Vec<(String, String)>,
}

/// Tessera with the gateway's client (token lifetime `lifetime` seconds) and three inbound
/// callers, the upstream API, and the secret file.
pub async fn world(lifetime: Option<u64>) -> World {
    world_with(lifetime, |_| {}).await
}

/// [`world`] with Tessera's configuration adjusted by `f`.
pub async fn world_with(
    lifetime: Option<u64>,
    f: impl FnOnce(&mut tessera_server::config::Config),
) -> World {
    let tessera = tessera_with(f).await;
    static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let gateway_id = format!(
        "gateway-{}",
        N.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    );
    let mut gw = ClientSpec::new(&gateway_id)
        .scopes(&[BILLING_SCOPE], &[BILLING_SCOPE])
        .audiences(&[BILLING_AUD]);
    if let Some(l) = lifetime {
        gw = gw.lifetime(l);
    }
    let gateway_secret = tessera.register_client(gw).await;
    let mut callers = Vec::new();
    for (id, scope, aud) in [
        ("caller", CALL_SCOPE, GATEWAY_AUD),
        ("caller-without-scope", "gw.other.read", GATEWAY_AUD),
        ("caller-elsewhere", CALL_SCOPE, "https://elsewhere.example/"),
    ] {
        let secret = tessera
            .register_client(
                ClientSpec::new(id)
                    .scopes(&[scope], &[scope])
                    .audiences(&[aud]),
            )
            .await;
        callers.push((id.to_owned(), secret));
    }
    let api = upstream_api(&tessera.issuer(), BILLING_AUD).await;
    let dir = ConfigDir::new();
    let secret_file = dir.secret("gateway.secret", &gateway_secret);
    World {
        tessera,
        api,
        dir,
        gateway_secret,
        secret_file,
        gateway_id,
        callers,
    }
}

impl World {
    /// The configuration: route `billing` (`/billing` → the API, with the gateway's token) and
    /// route `guarded` (`/guarded` → the same, for callers with `gw.billing.call` tokens for the
    /// gateway's audience); `extra` is appended.
    pub fn config(&self, extra: &str) -> String {
        self.config_with(&self.oauth2("billing"), extra)
    }

    /// [`World::config`] with `oauth2` as the `billing` upstream's `oauth2` block.
    pub fn config_with(&self, oauth2: &str, extra: &str) -> String {
        format!(
            r#"
[gateway]
listen = "127.0.0.1:0"

[upstreams.billing]
url = "{api}"
request_timeout = "10s"

{oauth2}
[[routes]]
name = "billing"
path_prefix = "/billing"
strip_prefix = true
upstream = "billing"

[[routes]]
name = "guarded"
path_prefix = "/guarded"
strip_prefix = true
upstream = "billing"

[routes.guard]
issuer = "{issuer}"
audiences = "{GATEWAY_AUD}"
scopes = "{CALL_SCOPE}"
{extra}
"#,
            api = self.api.url(),
            issuer = self.tessera.issuer(),
        )
    }

    /// The `oauth2` block of upstream `name` with the gateway's credential.
    pub fn oauth2(&self, name: &str) -> String {
        format!(
            r#"
[upstreams.{name}.oauth2]
token_endpoint = "{te}"
client_id = "{id}"
client_secret = {{ file = "{secret}" }}
scope = "{BILLING_SCOPE}"
audience = "{BILLING_AUD}"
"#,
            te = self.tessera.token_endpoint(),
            id = self.gateway_id,
            secret = self.secret_file.display(),
        )
    }

    /// A token of caller `id` (see [`world`]).
    pub async fn caller_token(&self, id: &str) -> String {
        let (_, secret) = self.callers.iter().find(|(c, _)| c == id).unwrap();
        self.tessera.token(id, secret, &[]).await
    }
}
