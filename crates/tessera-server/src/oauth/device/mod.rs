//! The device authorization grant (RFC 8628): the device authorization endpoint and user codes.
//! The user's side is in `pages::device`; polling is `oauth::grants::device_code`.

pub mod endpoint;
pub mod user_code;
