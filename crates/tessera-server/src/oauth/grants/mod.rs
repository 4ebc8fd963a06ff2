//! One file per grant type.

pub mod authorization_code;
pub mod client_credentials;
pub mod common;
pub mod device_code;
pub mod jwt_bearer;
pub mod password;
pub mod refresh_token;
pub mod user_scope;
pub mod user_tokens;
