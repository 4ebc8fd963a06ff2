//! `GET /admin/clients/new`: the form that registers a client (admins); `POST` to the same address
//! creates it through the admin API's own code ([`crate::admin::clients::create_client`]: the
//! same validation and messages, the same `client.create` audit record, under the person's name)
//! and answers with the client's secret, shown this once, with a copy button and a `curl` example
//! that gets a token with it. A refused form comes back with its values and the reason.

use super::clients::{person_for_page, person_for_post};
use super::scopes::service_of;
use super::session;
use super::templates::{CreatedPage, NewClientPage, ScopeChoice};
use crate::admin::clients::{NewClient, create_client};
use crate::net::RemoteAddr;
use crate::pages::form::{field, read};
use crate::pages::render;
use crate::state::{AppState, SharedState};
use crate::users::role::Operation;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use secrecy::ExposeSecret;
use tessera_proto::{ClientAuthMethod, FormParams, GrantType, TokenFormat};

/// The grant types the form offers (every one Tessera knows).
const GRANTS: [GrantType; 6] = GrantType::ALL;

/// The authentication methods the form offers (`private_key_jwt` needs a JWK Set: the CLI or the
/// admin API).
const METHODS: [ClientAuthMethod; 4] = [
    ClientAuthMethod::ClientSecretBasic,
    ClientAuthMethod::ClientSecretPost,
    ClientAuthMethod::ClientSecretJwt,
    ClientAuthMethod::None,
];

/// What the form holds (as typed), to show it again.
#[derive(Debug, Clone, Default)]
pub struct Typed {
    /// Name.
    pub name: String,
    /// Client id, or empty for a generated one.
    pub client_id: String,
    /// Description.
    pub description: String,
    /// Chosen grant types (wire values).
    pub grants: Vec<String>,
    /// Redirect URIs, one a line.
    pub redirect_uris: String,
    /// Chosen scopes.
    pub scopes: Vec<String>,
    /// Audiences, one a line.
    pub audiences: String,
    /// Authentication method (wire value).
    pub method: String,
    /// `""` (server default), `jwt` or `opaque`.
    pub format: String,
    /// Lifetime in seconds, or empty.
    pub lifetime: String,
}

fn lines(s: &str) -> Vec<String> {
    s.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

impl Typed {
    fn from_form(form: &FormParams) -> Self {
        let all = |name: &str| -> Vec<String> { form.get_all(name).map(str::to_owned).collect() };
        let one = |name: &str| field(form, name).unwrap_or("").to_owned();
        Self {
            name: one("name"),
            client_id: one("client_id"),
            description: one("description"),
            grants: all("grant_type"),
            redirect_uris: one("redirect_uris"),
            scopes: all("scope"),
            audiences: one("audiences"),
            method: one("method"),
            format: one("format"),
            lifetime: one("lifetime"),
        }
    }

    /// The admin API's body for this form, or the reason it cannot be one.
    fn to_new_client(&self) -> Result<NewClient, String> {
        let mut grant_types = Vec::new();
        for g in &self.grants {
            grant_types
                .push(GrantType::parse(g).ok_or_else(|| format!("{g:?} is not a grant type"))?);
        }
        if grant_types.is_empty() {
            return Err("choose at least one grant type".into());
        }
        // Not chosen: the server's default (the secret in the header or the body).
        let methods = if self.method.is_empty() {
            None
        } else {
            Some(vec![ClientAuthMethod::parse(&self.method).ok_or_else(
                || format!("{:?} is not an authentication method", self.method),
            )?])
        };
        let access_token_format = match self.format.as_str() {
            "" => None,
            "jwt" => Some(TokenFormat::Jwt),
            "opaque" => Some(TokenFormat::Opaque),
            other => return Err(format!("{other:?} is not a token format")),
        };
        let access_token_lifetime = match self.lifetime.trim() {
            "" => None,
            l => Some(
                l.parse::<u64>()
                    .map_err(|_| "the lifetime must be a whole number of seconds".to_owned())?,
            ),
        };
        Ok(NewClient {
            client_id: (!self.client_id.trim().is_empty())
                .then(|| self.client_id.trim().to_owned()),
            name: self.name.trim().to_owned(),
            description: self.description.trim().to_owned(),
            enabled: None,
            grant_types,
            redirect_uris: lines(&self.redirect_uris),
            allowed_scopes: self.scopes.clone(),
            default_scopes: Vec::new(),
            token_endpoint_auth_methods: methods,
            client_secret: None,
            require_pkce: None,
            token_endpoint_auth_signing_alg: None,
            jwks: None,
            jwks_uri: None,
            access_token_format,
            access_token_lifetime,
            access_token_signing_alg: None,
            audiences: lines(&self.audiences),
            extra_claims: Default::default(),
        })
    }
}

async fn form_page(
    state: &AppState,
    person: &session::Person,
    typed: Typed,
    error: Option<String>,
    status: StatusCode,
) -> Response {
    let scopes = match state.store.list_scopes().await {
        Ok(s) => s,
        Err(_) => return render::unavailable(state),
    };
    let mut choices: Vec<ScopeChoice> = scopes
        .into_iter()
        .filter(|s| !s.name.starts_with("tessera."))
        .map(|s| ScopeChoice {
            checked: typed.scopes.contains(&s.name),
            service: service_of(&s.name).to_owned(),
            name: s.name,
            description: s.description,
        })
        .collect();
    choices.sort_by(|a, b| a.name.cmp(&b.name));
    let t = NewClientPage {
        shell: person.shell(state, "clients"),
        error,
        grants: GRANTS.iter().map(|g| g.as_str()).collect(),
        methods: METHODS.iter().map(|m| m.as_str()).collect(),
        scopes: choices,
        typed,
    };
    render::page(state, status, &t)
}

/// `GET /admin/clients/new`.
pub async fn show(
    State(state): State<SharedState>,
    headers: HeaderMap,
    remote: RemoteAddr,
) -> Response {
    let person = match person_for_page(&state, &headers, remote).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    if let Some(r) = person.refused(&state, Operation::ClientWrite, "creating clients") {
        return r;
    }
    let typed = Typed {
        grants: vec![GrantType::ClientCredentials.as_str().to_owned()],
        ..Typed::default()
    };
    form_page(&state, &person, typed, None, StatusCode::OK).await
}

/// `POST /admin/clients/new`.
pub async fn submit(
    State(state): State<SharedState>,
    headers: HeaderMap,
    remote: RemoteAddr,
    body: Body,
) -> Response {
    let form = match read(&state, &headers, body).await {
        Ok(f) => f,
        Err(page) => return page,
    };
    let person =
        match person_for_post(&state, &headers, remote, &form, Operation::ClientWrite).await {
            Ok(p) => p,
            Err(r) => return r,
        };
    let typed = Typed::from_form(&form);
    let new = match typed.to_new_client() {
        Ok(n) => n,
        Err(e) => return form_page(&state, &person, typed, Some(e), StatusCode::BAD_REQUEST).await,
    };
    let created = match create_client(&state, &person.actor(), new, None).await {
        Ok(c) => c,
        Err(e) => {
            let status = e.http_status();
            if status.is_server_error() {
                return render::unavailable(&state);
            }
            return form_page(
                &state,
                &person,
                typed,
                Some(e.description().to_owned()),
                status,
            )
            .await;
        }
    };
    let secret = created
        .client_secret
        .as_ref()
        .map(|s| s.expose_secret().to_owned());
    let curl = secret.as_ref().map(|s| {
        let mut c = format!(
            "curl -s -u '{}:{}' -d grant_type=client_credentials",
            created.client.client_id, s
        );
        if let Some(first) = created.client.allowed_scopes.first() {
            c.push_str(&format!(" -d scope={first}"));
        }
        c.push_str(&format!(" {}", state.token_endpoint));
        c
    });
    let t = CreatedPage {
        shell: person.shell(&state, "clients"),
        name: created.client.name.clone(),
        client_id: created.client.client_id.clone(),
        secret,
        curl: curl.filter(|_| {
            created
                .client
                .grant_types
                .contains(&GrantType::ClientCredentials)
                && created.client.accepts(ClientAuthMethod::ClientSecretBasic)
        }),
    };
    with_own_scripts(&state, render::page(&state, StatusCode::CREATED, &t))
}

/// `resp`, a page that shows a secret once, allowed to run the console's own script file (its
/// copy buttons): the pages' policy plus `script-src 'self'`; every other page runs no script.
pub(super) fn with_own_scripts(state: &AppState, mut resp: Response) -> Response {
    let csp = format!(
        "{}; script-src 'self'",
        render::content_security_policy(state)
    );
    if let Ok(v) = HeaderValue::from_str(&csp) {
        resp.headers_mut()
            .insert(header::CONTENT_SECURITY_POLICY, v);
    }
    resp
}
