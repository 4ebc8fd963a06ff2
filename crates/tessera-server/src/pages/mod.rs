//! The pages people see: sign-in, consent, device code entry, results and errors, sign-out.
//! Server-rendered (askama), no script, framing forbidden, every form CSRF-protected; the product
//! name, logo and colours come from `[pages]`. The consent step of the authorization code flow
//! lives with the authorization endpoint (`oauth::authorize`).

pub mod assets;
pub mod browser;
pub mod device;
pub mod form;
pub mod login;
pub mod logout;
pub mod new_password;
pub mod render;
pub mod scopes;
pub mod templates;
