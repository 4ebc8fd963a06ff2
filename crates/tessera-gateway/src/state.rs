//! The configuration in force, built from a [`LoadedConfig`]: routes, upstreams with their HTTP
//! clients and token injectors, and route guards. A new state reuses what an equal part of the
//! previous one had (HTTP clients and their pools, guards and their keys; cached tokens are kept
//! by the shared token cache), so a reload drops neither connections nor tokens.

use crate::config::{ConfigError, LoadedConfig};
use crate::inbound::{GuardPool, InboundGuard};
use crate::metrics::{Metrics, RouteMetrics};
use crate::oauth2::{Credentials, TokenInjector};
use crate::routes::RouteTable;
use crate::upstream::{HttpClients, Target, TransportKey};
use arc_swap::ArcSwap;
use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// An upstream as the proxy uses it.
pub(crate) struct Upstream {
    /// Its name in the configuration.
    pub(crate) name: Arc<str>,
    /// Where requests go.
    pub(crate) target: Target,
    /// Its clients (sharing pools with upstreams of equal transport settings).
    pub(crate) clients: HttpClients,
    /// Until the response head.
    pub(crate) request_timeout: Duration,
    /// The token put on requests, if the upstream has an `oauth2` block.
    pub(crate) auth: Option<Arc<TokenInjector>>,
}

/// A route as the proxy uses it.
pub(crate) struct Route {
    /// Its name in metrics and logs.
    pub(crate) name: Arc<str>,
    /// Where it leads.
    pub(crate) upstream: Arc<Upstream>,
    /// Its inbound check.
    pub(crate) guard: Option<InboundGuard>,
    /// Its counters.
    pub(crate) metrics: Arc<RouteMetrics>,
}

/// One configuration, ready to serve.
pub(crate) struct State {
    /// The routes in matching order.
    pub(crate) routes: RouteTable<Route>,
    /// Upstreams by name.
    pub(crate) upstreams: BTreeMap<String, Arc<Upstream>>,
    clients: HashMap<TransportKey, HttpClients>,
    guards: GuardPool,
    /// Largest body kept for replay.
    pub(crate) max_replay_body: usize,
    /// Keep inbound `X-Forwarded-Proto`/`-Host`.
    pub(crate) trust_forwarded: bool,
    /// Whether to write access log lines.
    pub(crate) access_log: bool,
    /// The listener address this configuration asked for.
    pub(crate) listen: SocketAddr,
    /// The admin listener address this configuration asked for.
    pub(crate) admin_listen: Option<SocketAddr>,
}

/// What lives as long as the gateway, across configurations.
pub(crate) struct Shared {
    /// The configuration in force.
    pub(crate) state: ArcSwap<State>,
    /// Token cache and per-credential readiness.
    pub(crate) credentials: Credentials,
    /// Counters.
    pub(crate) metrics: Metrics,
    /// The file to read again on reload.
    pub(crate) config_path: Option<PathBuf>,
    /// One reload at a time.
    pub(crate) reload_lock: tokio::sync::Mutex<()>,
    /// Whether `/healthz`, `/readyz`, `/metrics` have their own listener.
    pub(crate) admin_separate: bool,
    /// How long in-flight requests may take at shutdown (from the first configuration).
    pub(crate) shutdown_grace: Duration,
    /// The limits connections are served under (from the first configuration).
    pub(crate) serving: tessera_serve::Settings,
}

impl State {
    /// Builds the state of `loaded`, reusing parts of `previous`. Reads secrets, keys and CA
    /// files; any failure refuses the whole configuration.
    pub(crate) fn build(
        loaded: &LoadedConfig,
        previous: Option<&State>,
        credentials: &Credentials,
        metrics: &Metrics,
    ) -> Result<Self, ConfigError> {
        let cfg = &loaded.config;
        cfg.validate()?;
        let invalid = ConfigError::Invalid;
        let mut clients: HashMap<TransportKey, HttpClients> = HashMap::new();
        let mut upstreams = BTreeMap::new();
        for (name, u) in &cfg.upstreams {
            let key = TransportKey::of(name, u).map_err(invalid)?;
            let client = match clients
                .get(&key)
                .or_else(|| previous.and_then(|p| p.clients.get(&key)))
            {
                Some(c) => c.clone(),
                None => key
                    .clients()
                    .map_err(|e| ConfigError::Invalid(format!("upstream {name}: {e}")))?,
            };
            clients.insert(key, client.clone());
            let target = Target::parse(&u.url)
                .map_err(|e| ConfigError::Invalid(format!("upstream {name}: {e}")))?;
            let auth = match &u.oauth2 {
                Some(o) => {
                    let backend = o
                        .backend
                        .as_deref()
                        .and_then(|b| cfg.upstreams.get_key_value(b))
                        .map(|(n, b)| (n.as_str(), b));
                    Some(Arc::new(
                        TokenInjector::build(name, o, backend, loaded.private, credentials)
                            .map_err(invalid)?,
                    ))
                }
                None => None,
            };
            upstreams.insert(
                name.clone(),
                Arc::new(Upstream {
                    name: Arc::from(name.as_str()),
                    target,
                    clients: client,
                    request_timeout: u.request_timeout,
                    auth,
                }),
            );
        }
        let empty = GuardPool::new();
        let previous_guards = previous.map_or(&empty, |p| &p.guards);
        let mut guards = GuardPool::new();
        let mut routes = Vec::with_capacity(cfg.routes.len());
        for r in &cfg.routes {
            let name = r.display_name();
            let upstream = upstreams.get(&r.upstream).cloned().ok_or_else(|| {
                ConfigError::Invalid(format!("route {name}: no upstream {:?}", r.upstream))
            })?;
            let guard = match &r.guard {
                Some(g) => Some(
                    InboundGuard::build(&name, g, loaded.private, previous_guards, &mut guards)
                        .map_err(invalid)?,
                ),
                None => None,
            };
            routes.push((
                r.host.clone(),
                r.path_prefix.clone(),
                r.strip_prefix,
                Route {
                    metrics: metrics.route(&name),
                    name: Arc::from(name.as_str()),
                    upstream,
                    guard,
                },
            ));
        }
        Ok(Self {
            routes: RouteTable::new(routes),
            upstreams,
            clients,
            guards,
            max_replay_body: cfg.gateway.max_replay_body,
            trust_forwarded: cfg.gateway.trust_forwarded_headers,
            access_log: cfg.log.access_log,
            listen: cfg.gateway.listen,
            admin_listen: cfg.gateway.admin_listen,
        })
    }

    /// Starts getting the first token of every upstream in the background (for `/readyz`).
    pub(crate) fn warm_up(&self) {
        for u in self.upstreams.values() {
            if let Some(a) = &u.auth {
                a.warm_up();
            }
        }
    }

    /// The number of routes.
    pub(crate) fn route_count(&self) -> usize {
        self.routes.values().count()
    }
}
