//! The client form the console shows to create a client (`/admin/clients/new`) and to edit one
//! (`/admin/clients/{client_id}/edit`): what it holds as typed ([`Typed`]), how that becomes the
//! admin API's body (a [`NewClient`] or a [`ClientPatch`]), and how a submission goes through
//! the admin API's own code ([`save`]): the same validation and messages, each shown next to
//! the field it concerns ([`FieldError`]), with the values kept.
//!
//! A scope may be created from the form (its name and description): the scope and the client
//! are both checked first, and the scope is created (audited as `scope.create`) only when the
//! client would be accepted with it; then it is ticked for the client.

use super::scopes::service_of;
use super::session::Person;
use super::templates::{ClientFormPage, FieldError, ScopeChoice};
use crate::admin::clients::{
    ClientPatch, ClientWithSecret, NewClient, check_new, check_update, create_client, update_client,
};
use crate::admin::error::ApiError;
use crate::admin::scopes::{NewScope, check_new_scope, create_scope};
use crate::model::Client;
use crate::model::auth_methods::SECRET_DEFAULT;
use crate::pages::form::field;
use crate::pages::render;
use crate::state::AppState;
use crate::users::role::Operation;
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Map, Value};
use tessera_jose::{Algorithm, JwkSet};
use tessera_proto::scope::OPENID_SCOPES;
use tessera_proto::{ClientAuthMethod, FormParams, GrantType, TokenFormat};

/// The grant types the form offers (every one Tessera knows).
pub const GRANTS: [GrantType; 6] = GrantType::ALL;

/// The authentication methods the form offers.
pub const METHODS: [ClientAuthMethod; 5] = [
    ClientAuthMethod::ClientSecretBasic,
    ClientAuthMethod::ClientSecretPost,
    ClientAuthMethod::ClientSecretJwt,
    ClientAuthMethod::PrivateKeyJwt,
    ClientAuthMethod::None,
];

/// The access token signing algorithms the form offers (what the admin API accepts).
pub const TOKEN_ALGS: [Algorithm; 3] = [Algorithm::ES256, Algorithm::RS256, Algorithm::EdDSA];

/// The form's fields that repeat (its groups of checkboxes).
pub const REPEATED: [&str; 4] = ["grant_type", "scope", "default_scope", "method"];

/// The most fields the client form may post: one checkbox per scope (the console stays usable
/// with 1,000 scopes, every one of them ticked) and the form's other fields. Parsing is linear,
/// and the body stays within `http.max_body_bytes`.
pub const MAX_FIELDS: usize = 2_048;

/// The group the OpenID Connect scopes are listed under.
const OPENID_GROUP: &str = "OpenID Connect";

/// What the form holds (as typed), to show it again.
#[derive(Debug, Clone, Default)]
pub struct Typed {
    /// Name.
    pub name: String,
    /// Client id, or empty for a generated one (creation only).
    pub client_id: String,
    /// Description.
    pub description: String,
    /// Chosen grant types (wire values).
    pub grants: Vec<String>,
    /// Redirect URIs, one a line.
    pub redirect_uris: String,
    /// Chosen scopes.
    pub scopes: Vec<String>,
    /// Chosen default scopes (among the chosen scopes).
    pub default_scopes: Vec<String>,
    /// Audiences, one a line.
    pub audiences: String,
    /// Chosen authentication methods (wire values); none: the server's default.
    pub methods: Vec<String>,
    /// The JWK Set (JSON), or empty.
    pub jwks: String,
    /// The JWKS URI, or empty.
    pub jwks_uri: String,
    /// `""` (server default), `jwt` or `opaque`.
    pub format: String,
    /// Lifetime in seconds, or empty.
    pub lifetime: String,
    /// Access token signing algorithm, or empty for the server's default.
    pub alg: String,
    /// The algorithm client assertions must use, or empty for any fitting one.
    pub assertion_alg: String,
    /// `""` (the server's `authorize.require_pkce`), `required` or `not_required`.
    pub pkce: String,
    /// Static claims (a JSON object), or empty.
    pub claims: String,
    /// The name of a scope to create and tick, or empty.
    pub new_scope_name: String,
    /// Its description.
    pub new_scope_description: String,
}

fn lines(s: &str) -> Vec<String> {
    s.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The form field (its `id`) that shows the admin API's refusal about `api_field`, or `None`
/// for a refusal the form has no field for (shown in the summary alone).
fn form_field(api_field: &str) -> Option<&'static str> {
    Some(match api_field {
        "client_id" => "client_id",
        "name" => "name",
        "description" => "description",
        "grant_types" => "grants",
        "redirect_uris" => "redirect_uris",
        "allowed_scopes" => "scopes",
        "default_scopes" => "default_scopes",
        "token_endpoint_auth_methods" => "methods",
        "token_endpoint_auth_signing_alg" => "assertion_alg",
        "require_pkce" => "pkce",
        "jwks" => "jwks",
        "jwks_uri" => "jwks_uri",
        "access_token_format" => "format",
        "access_token_lifetime" => "lifetime",
        "access_token_signing_alg" => "alg",
        "audiences" => "audiences",
        "extra_claims" => "claims",
        _ => return None,
    })
}

/// The values parsed from the form, before they become a body for the admin API.
struct Parsed {
    grant_types: Vec<GrantType>,
    methods: Vec<ClientAuthMethod>,
    format: Option<TokenFormat>,
    lifetime: Option<u64>,
    alg: Option<Algorithm>,
    assertion_alg: Option<Algorithm>,
    require_pkce: Option<bool>,
    jwks: Option<JwkSet>,
    jwks_uri: Option<String>,
    claims: Map<String, Value>,
    scopes: Vec<String>,
}

impl Typed {
    /// The values of a submitted form.
    pub fn from_form(form: &FormParams) -> Self {
        let all = |name: &str| -> Vec<String> {
            form.get_all(name)
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
                .collect()
        };
        let one = |name: &str| field(form, name).unwrap_or("").to_owned();
        Self {
            name: one("name"),
            client_id: one("client_id"),
            description: one("description"),
            grants: all("grant_type"),
            redirect_uris: one("redirect_uris"),
            scopes: all("scope"),
            default_scopes: all("default_scope"),
            audiences: one("audiences"),
            methods: all("method"),
            jwks: one("jwks"),
            jwks_uri: one("jwks_uri"),
            format: one("format"),
            lifetime: one("lifetime"),
            alg: one("alg"),
            assertion_alg: one("assertion_alg"),
            pkce: one("pkce"),
            claims: one("claims"),
            new_scope_name: one("new_scope_name").trim().to_owned(),
            new_scope_description: one("new_scope_description"),
        }
    }

    /// The form for a new client: client credentials, the secret in the header or the body.
    pub fn new_client() -> Self {
        Self {
            grants: vec![GrantType::ClientCredentials.as_str().to_owned()],
            methods: SECRET_DEFAULT
                .iter()
                .map(|m| m.as_str().to_owned())
                .collect(),
            ..Self::default()
        }
    }

    /// The form showing the registration `c`.
    pub fn from_client(c: &Client) -> Self {
        Self {
            name: c.name.clone(),
            client_id: c.client_id.clone(),
            description: c.description.clone(),
            grants: c
                .grant_types
                .iter()
                .map(|g| g.as_str().to_owned())
                .collect(),
            redirect_uris: c.redirect_uris.join("\n"),
            scopes: c.allowed_scopes.clone(),
            default_scopes: c.default_scopes.clone(),
            audiences: c.audiences.join("\n"),
            methods: c
                .token_endpoint_auth_methods
                .iter()
                .map(|m| m.as_str().to_owned())
                .collect(),
            jwks: c.jwks.as_ref().map(pretty).unwrap_or_default(),
            jwks_uri: c.jwks_uri.clone().unwrap_or_default(),
            format: c
                .access_token_format
                .map(|f| f.to_string())
                .unwrap_or_default(),
            lifetime: c
                .access_token_lifetime
                .map(|l| l.to_string())
                .unwrap_or_default(),
            alg: c
                .access_token_signing_alg
                .map(|a| a.as_str().to_owned())
                .unwrap_or_default(),
            assertion_alg: c
                .token_endpoint_auth_signing_alg
                .map(|a| a.as_str().to_owned())
                .unwrap_or_default(),
            pkce: match c.require_pkce {
                None => "",
                Some(true) => "required",
                Some(false) => "not_required",
            }
            .to_owned(),
            claims: if c.extra_claims.is_empty() {
                String::new()
            } else {
                pretty(&c.extra_claims)
            },
            new_scope_name: String::new(),
            new_scope_description: String::new(),
        }
    }

    /// The values as the admin API's types, or what is wrong with the ones it cannot read (each
    /// next to its field).
    fn parse(&self) -> Result<Parsed, Vec<FieldError>> {
        let mut errors = Vec::new();
        let mut grant_types = Vec::new();
        for g in &self.grants {
            match GrantType::parse(g) {
                Some(g) => grant_types.push(g),
                None => errors.push(FieldError::new(
                    "grants",
                    format!("{g:?} is not a grant type"),
                )),
            }
        }
        let mut methods = Vec::new();
        for m in &self.methods {
            match ClientAuthMethod::parse(m) {
                Some(m) => methods.push(m),
                None => errors.push(FieldError::new(
                    "methods",
                    format!("{m:?} is not an authentication method"),
                )),
            }
        }
        // None ticked: the server's default (the secret in the header or the body).
        if methods.is_empty() {
            methods = SECRET_DEFAULT.to_vec();
        }
        let format = match self.format.as_str() {
            "" => None,
            "jwt" => Some(TokenFormat::Jwt),
            "opaque" => Some(TokenFormat::Opaque),
            other => {
                errors.push(FieldError::new(
                    "format",
                    format!("{other:?} is not a token format"),
                ));
                None
            }
        };
        let lifetime = match self.lifetime.trim() {
            "" => None,
            l => match l.parse::<u64>() {
                Ok(n) => Some(n),
                Err(_) => {
                    errors.push(FieldError::new(
                        "lifetime",
                        "access_token_lifetime must be a whole number of seconds",
                    ));
                    None
                }
            },
        };
        let mut algorithm = |field: &'static str, value: &str| match value {
            "" => None,
            a => match Algorithm::parse(a) {
                Ok(a) => Some(a),
                Err(_) => {
                    errors.push(FieldError::new(field, format!("{a:?} is not an algorithm")));
                    None
                }
            },
        };
        let alg = algorithm("alg", &self.alg);
        let assertion_alg = algorithm("assertion_alg", &self.assertion_alg);
        let require_pkce = match self.pkce.as_str() {
            "" => None,
            "required" => Some(true),
            "not_required" => Some(false),
            other => {
                errors.push(FieldError::new(
                    "pkce",
                    format!("{other:?} is not a PKCE setting"),
                ));
                None
            }
        };
        let jwks = match self.jwks.trim() {
            "" => None,
            j => match serde_json::from_str::<JwkSet>(j) {
                Ok(set) => Some(set),
                Err(e) => {
                    errors.push(FieldError::new(
                        "jwks",
                        format!("jwks is not a JWK Set ({{\"keys\": [...]}}): {e}"),
                    ));
                    None
                }
            },
        };
        let jwks_uri = Some(self.jwks_uri.trim().to_owned()).filter(|u| !u.is_empty());
        let claims = match self.claims.trim() {
            "" => Map::new(),
            c => match serde_json::from_str::<Map<String, Value>>(c) {
                Ok(m) => m,
                Err(e) => {
                    errors.push(FieldError::new(
                        "claims",
                        format!(
                            "extra_claims must be a JSON object ({{\"name\": value, ...}}): {e}"
                        ),
                    ));
                    Map::new()
                }
            },
        };
        let mut scopes = self.scopes.clone();
        if !self.new_scope_name.is_empty() && !scopes.contains(&self.new_scope_name) {
            scopes.push(self.new_scope_name.clone());
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(Parsed {
            grant_types,
            methods,
            format,
            lifetime,
            alg,
            assertion_alg,
            require_pkce,
            jwks,
            jwks_uri,
            claims,
            scopes,
        })
    }

    /// The admin API's body registering this client.
    fn to_new_client(&self) -> Result<NewClient, Vec<FieldError>> {
        let p = self.parse()?;
        Ok(NewClient {
            client_id: Some(self.client_id.trim().to_owned()).filter(|id| !id.is_empty()),
            name: self.name.trim().to_owned(),
            description: self.description.trim().to_owned(),
            enabled: None,
            grant_types: p.grant_types,
            redirect_uris: lines(&self.redirect_uris),
            allowed_scopes: p.scopes,
            default_scopes: self.default_scopes.clone(),
            token_endpoint_auth_methods: Some(p.methods),
            client_secret: None,
            require_pkce: p.require_pkce,
            token_endpoint_auth_signing_alg: p.assertion_alg,
            jwks: p.jwks,
            jwks_uri: p.jwks_uri,
            access_token_format: p.format,
            access_token_lifetime: p.lifetime,
            access_token_signing_alg: p.alg,
            audiences: lines(&self.audiences),
            extra_claims: p.claims,
        })
    }

    /// The admin API's body changing a client to this: every field the form shows (the others,
    /// such as whether it is enabled, stay as they are).
    fn to_patch(&self) -> Result<ClientPatch, Vec<FieldError>> {
        let p = self.parse()?;
        Ok(ClientPatch {
            name: Some(self.name.trim().to_owned()),
            description: Some(self.description.trim().to_owned()),
            enabled: None,
            grant_types: Some(p.grant_types),
            redirect_uris: Some(lines(&self.redirect_uris)),
            allowed_scopes: Some(p.scopes),
            default_scopes: Some(self.default_scopes.clone()),
            token_endpoint_auth_methods: Some(p.methods),
            token_endpoint_auth_signing_alg: Some(p.assertion_alg),
            jwks: Some(p.jwks),
            jwks_uri: Some(p.jwks_uri),
            access_token_format: Some(p.format),
            access_token_lifetime: Some(p.lifetime),
            access_token_signing_alg: Some(p.alg),
            audiences: Some(lines(&self.audiences)),
            require_pkce: Some(p.require_pkce),
            extra_claims: Some(p.claims),
        })
    }

    /// The scope to create with the client, if the form names one.
    fn new_scope(&self) -> Option<NewScope> {
        (!self.new_scope_name.is_empty()).then(|| NewScope {
            name: self.new_scope_name.clone(),
            description: self.new_scope_description.trim().to_owned(),
            permissions: Vec::new(),
        })
    }
}

/// `v` as indented JSON for the form's text areas (empty when it cannot be written).
fn pretty<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string_pretty(v).unwrap_or_default()
}

/// A scope offered by the form, in its service's group (the OpenID Connect scopes together).
fn choice(name: String, description: String) -> ScopeChoice {
    ScopeChoice {
        service: if OPENID_SCOPES.contains(&name.as_str()) {
            OPENID_GROUP.to_owned()
        } else {
            service_of(&name).to_owned()
        },
        name,
        description,
        checked: false,
        default: false,
    }
}

/// Whether the form creates a client or edits one.
#[derive(Debug, Clone)]
pub enum Target {
    /// `/admin/clients/new`.
    Create,
    /// `/admin/clients/{client_id}/edit`, with the registration as it is.
    Edit(Box<Client>),
}

impl Target {
    fn action(&self) -> String {
        match self {
            Self::Create => "/admin/clients/new".into(),
            Self::Edit(c) => format!(
                "/admin/clients/{}/edit",
                super::clients::segment(&c.client_id)
            ),
        }
    }
}

/// An admin API refusal as the form shows it: next to its field, or in the summary alone.
fn refusal(e: &ApiError, on_create: bool) -> FieldError {
    let field = match e.field().and_then(form_field) {
        Some(f) => f,
        // A taken client id is the only conflict a new registration meets.
        None if on_create && e.http_status() == StatusCode::CONFLICT => "client_id",
        None => "",
    };
    FieldError::new(field, e.description())
}

/// A refusal of the scope to create, next to the scope fields.
fn scope_refusal(e: &ApiError) -> FieldError {
    let field = match e.field() {
        Some("description") => "new_scope_description",
        _ => "new_scope_name",
    };
    FieldError::new(field, e.description())
}

/// The form page, with `errors` (and status 400 or the admin API's) after a refusal.
pub async fn page(
    state: &AppState,
    person: &Person,
    target: &Target,
    typed: Typed,
    errors: Vec<FieldError>,
    status: StatusCode,
) -> Response {
    let scopes = match state.store.list_scopes().await {
        Ok(s) => s,
        Err(_) => return render::unavailable(state),
    };
    let held: &[String] = match target {
        Target::Edit(c) => &c.allowed_scopes,
        Target::Create => &[],
    };
    let mut choices: Vec<ScopeChoice> = scopes
        .into_iter()
        // Tessera's own admin scopes only where the client holds them (an admin client).
        .filter(|s| !s.name.starts_with("tessera.") || held.contains(&s.name))
        .map(|s| choice(s.name, s.description))
        .collect();
    // The OpenID Connect scopes need no registration; and a scope the form holds is offered
    // whatever it is, so that saving never drops it unseen.
    let extra: Vec<String> = OPENID_SCOPES
        .iter()
        .map(|s| (*s).to_owned())
        .chain(typed.scopes.iter().cloned())
        .chain(typed.default_scopes.iter().cloned())
        .chain(held.iter().cloned())
        .collect();
    for name in extra {
        if !choices.iter().any(|c| c.name == name) {
            choices.push(choice(name, String::new()));
        }
    }
    for c in &mut choices {
        c.checked = typed.scopes.contains(&c.name);
        c.default = typed.default_scopes.contains(&c.name);
    }
    choices.sort_by(|a, b| {
        (a.service == OPENID_GROUP, &a.service, &a.name).cmp(&(
            b.service == OPENID_GROUP,
            &b.service,
            &b.name,
        ))
    });
    let editing = match target {
        Target::Edit(c) => Some((c.name.clone(), c.client_id.clone())),
        Target::Create => None,
    };
    let t = ClientFormPage {
        shell: person.shell(state, "clients"),
        action: target.action(),
        editing,
        errors,
        grants: GRANTS.iter().map(|g| g.as_str()).collect(),
        methods: METHODS.iter().map(|m| m.as_str()).collect(),
        algs: TOKEN_ALGS.iter().map(|a| a.as_str()).collect(),
        assertion_algs: Algorithm::ALL.iter().map(|a| a.as_str()).collect(),
        may_create_scope: person.may(Operation::ScopeWrite),
        scopes: choices,
        typed,
    };
    render::page(state, status, &t)
}

/// What a saved form did.
#[derive(Debug)]
pub enum Saved {
    /// The client as stored, with its secret when one was issued.
    Client(Box<ClientWithSecret>),
    /// The page to answer with instead (the form again, or an error).
    Page(Response),
}

/// Saves the submitted form `typed` through the admin API's code as `person` (who may write
/// clients): first the scope it names, if any (once both it and the client were checked), then
/// the client.
pub async fn save(state: &AppState, person: &Person, target: &Target, mut typed: Typed) -> Saved {
    let on_create = matches!(target, Target::Create);
    macro_rules! again {
        ($errors:expr, $status:expr) => {
            return Saved::Page(page(state, person, target, typed, $errors, $status).await)
        };
    }
    let (new, patch) = match target {
        Target::Create => match typed.to_new_client() {
            Ok(n) => (Some(n), None),
            Err(errors) => again!(errors, StatusCode::BAD_REQUEST),
        },
        Target::Edit(_) => match typed.to_patch() {
            Ok(p) => (None, Some(p)),
            Err(errors) => again!(errors, StatusCode::BAD_REQUEST),
        },
    };
    let actor = person.actor();
    let mut created_scope = None;
    if let Some(scope) = typed.new_scope() {
        if !person.may(Operation::ScopeWrite) {
            again!(
                vec![FieldError::new(
                    "new_scope_name",
                    format!(
                        "your console role ({}) may not create scopes; it needs {}",
                        person.role,
                        Operation::ScopeWrite.scope()
                    ),
                )],
                StatusCode::FORBIDDEN
            );
        }
        if let Err(e) = check_new_scope(state, &scope).await {
            if e.http_status().is_server_error() {
                return Saved::Page(render::unavailable(state));
            }
            let status = e.http_status();
            again!(vec![scope_refusal(&e)], status);
        }
        // The client is checked with the scope before the scope is created.
        let also = std::slice::from_ref(&scope.name);
        let checked = match (&new, &patch, target) {
            (Some(n), _, _) => check_new(state, n, also).await,
            (_, Some(p), Target::Edit(c)) => check_update(state, &c.client_id, p, also).await,
            _ => Ok(()),
        };
        if let Err(e) = checked {
            if e.http_status().is_server_error() {
                return Saved::Page(render::unavailable(state));
            }
            let status = e.http_status();
            again!(vec![refusal(&e, on_create)], status);
        }
        match create_scope(state, &actor, scope).await {
            Ok(s) => {
                // From now on it is an ordinary scope, ticked.
                if !typed.scopes.contains(&s.name) {
                    typed.scopes.push(s.name.clone());
                }
                typed.new_scope_name.clear();
                typed.new_scope_description.clear();
                created_scope = Some(s.name);
            }
            Err(e) if e.http_status().is_server_error() => {
                return Saved::Page(render::unavailable(state));
            }
            Err(e) => {
                let status = e.http_status();
                again!(vec![scope_refusal(&e)], status);
            }
        }
    }
    let result = match (new, patch, target) {
        (Some(n), _, _) => create_client(state, &actor, n, None).await,
        (_, Some(p), Target::Edit(c)) => update_client(state, &actor, &c.client_id, p).await,
        _ => return Saved::Page(render::unavailable(state)),
    };
    match result {
        Ok(saved) => Saved::Client(Box::new(saved)),
        Err(e) if e.http_status().is_server_error() => Saved::Page(render::unavailable(state)),
        Err(e) => {
            let status = e.http_status();
            let mut errors = vec![refusal(&e, on_create)];
            if let Some(name) = created_scope {
                errors.insert(
                    0,
                    FieldError::new(
                        "",
                        format!(
                            "The scope {name} was created (and is ticked below), but the client was not saved:"
                        ),
                    ),
                );
            }
            again!(errors, status)
        }
    }
}
