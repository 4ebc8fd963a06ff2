//! The axum extractor: a handler takes [`VerifiedToken`] as an argument to get the claims the
//! guard's layer verified (RFC 9068 §2.2). `Option<VerifiedToken>` works on routes where the
//! token is optional.

use crate::challenge::{Rejection, RejectionKind};
use crate::token::VerifiedToken;
use axum::extract::{FromRequestParts, OptionalFromRequestParts};
use http::request::Parts;
use std::convert::Infallible;
use std::sync::Arc;

impl<S: Send + Sync> FromRequestParts<S> for VerifiedToken {
    /// 500 when the route has no guard layer: a programming error, never answered as a success.
    type Rejection = Rejection;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<VerifiedToken>()
            .cloned()
            .ok_or_else(|| Rejection::new(RejectionKind::NotGuarded, Arc::from("api")))
    }
}

impl<S: Send + Sync> OptionalFromRequestParts<S> for VerifiedToken {
    type Rejection = Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        _state: &S,
    ) -> Result<Option<Self>, Self::Rejection> {
        Ok(parts.extensions.get::<VerifiedToken>().cloned())
    }
}
