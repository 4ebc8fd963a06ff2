//! The admin API's errors and their HTTP form: a JSON body `{"error": …, "error_description": …}`
//! in the shape of RFC 6749 §5.2, so that one parser reads every Tessera error.

use super::auth::BearerError;
use crate::store::StoreError;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

/// The JSON body of every admin API error (RFC 6749 §5.2 names; RFC 6750 §3.1 codes for token
/// problems).
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Error)]
pub struct ErrorBody {
    /// `invalid_request`, `invalid_token`, `insufficient_scope`, `not_found`, `conflict`,
    /// `server_error` or `temporarily_unavailable`.
    pub error: &'static str,
    /// A sentence for the operator.
    pub error_description: String,
}

/// An error answered by the admin API.
#[derive(Debug)]
pub enum ApiError {
    /// The request is not acceptable; the status says how (400, 404, 409, 413, 500, 503).
    Status {
        /// The HTTP status.
        status: StatusCode,
        /// The error code: `invalid_request`, `not_found`, `conflict`, `server_error`,
        /// `temporarily_unavailable`.
        code: &'static str,
        /// A sentence for the operator.
        description: String,
        /// The request field the error concerns (`name`, `redirect_uris`, …), when it is one
        /// field; the console shows the sentence next to it. Not part of the JSON answer.
        field: Option<&'static str>,
    },
    /// The bearer token is missing, invalid or lacks the scope (RFC 6750 §3.1).
    Bearer(BearerError),
}

impl ApiError {
    fn status(status: StatusCode, code: &'static str, description: impl Into<String>) -> Self {
        Self::Status {
            status,
            code,
            description: description.into(),
            field: None,
        }
    }

    /// `invalid_request` (400): the input is malformed or not acceptable.
    pub fn invalid(description: impl Into<String>) -> Self {
        Self::status(StatusCode::BAD_REQUEST, "invalid_request", description)
    }

    /// `invalid_request` (400) about one field of the request (its API name, such as
    /// `redirect_uris`): the same answer as [`ApiError::invalid`], with the field kept for
    /// [`ApiError::field`].
    pub fn invalid_field(field: &'static str, description: impl Into<String>) -> Self {
        Self::Status {
            status: StatusCode::BAD_REQUEST,
            code: "invalid_request",
            description: description.into(),
            field: Some(field),
        }
    }

    /// The request field this error concerns, when it concerns one.
    pub fn field(&self) -> Option<&'static str> {
        match self {
            Self::Status { field, .. } => *field,
            Self::Bearer(_) => None,
        }
    }

    /// `not_found` (404).
    pub fn not_found(description: impl Into<String>) -> Self {
        Self::status(StatusCode::NOT_FOUND, "not_found", description)
    }

    /// `conflict` (409): the request clashes with the current state.
    pub fn conflict(description: impl Into<String>) -> Self {
        Self::status(StatusCode::CONFLICT, "conflict", description)
    }

    /// `invalid_request` (413): the body is over `http.max_body_bytes`.
    pub fn too_large(limit: usize) -> Self {
        Self::status(
            StatusCode::PAYLOAD_TOO_LARGE,
            "invalid_request",
            format!("the request body is larger than {limit} bytes"),
        )
    }

    /// `server_error` (500); the cause is logged here, never shown.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "admin API request failed");
        Self::status(
            StatusCode::INTERNAL_SERVER_ERROR,
            "server_error",
            "the server failed to complete the request",
        )
    }

    /// Maps a store error, naming `what` when it does not exist or already exists.
    pub fn from_store(e: StoreError, what: impl FnOnce() -> String) -> Self {
        match e {
            StoreError::NotFound => Self::not_found(format!("{} does not exist", what())),
            StoreError::Conflict => Self::conflict(format!("{} already exists", what())),
            other => other.into(),
        }
    }

    /// The HTTP status of this error.
    pub fn http_status(&self) -> StatusCode {
        match self {
            Self::Status { status, .. } => *status,
            Self::Bearer(b) => b.status(),
        }
    }

    /// The sentence describing this error.
    pub fn description(&self) -> &str {
        match self {
            Self::Status { description, .. } => description,
            Self::Bearer(b) => b.description(),
        }
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.description())
    }
}

impl std::error::Error for ApiError {}

impl From<BearerError> for ApiError {
    fn from(e: BearerError) -> Self {
        Self::Bearer(e)
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Unavailable(_) | StoreError::Busy(_) => {
                tracing::warn!(error = %e, "database unavailable");
                Self::status(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "temporarily_unavailable",
                    "the server cannot reach its database; try again shortly",
                )
            }
            StoreError::NotFound => Self::not_found("the object does not exist"),
            StoreError::Conflict => Self::conflict("the object already exists"),
            other => Self::internal(other),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match self {
            Self::Bearer(b) => b.into_response(),
            Self::Status {
                status,
                code,
                description,
                field: _,
            } => {
                let body = ErrorBody {
                    error: code,
                    error_description: description,
                };
                let mut resp = (status, axum::Json(body)).into_response();
                let h = resp.headers_mut();
                h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
                if status == StatusCode::SERVICE_UNAVAILABLE {
                    h.insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
                }
                resp
            }
        }
    }
}
