//! OpenAPI schemas (feature `utoipa`) for the wire types whose serde form is written by hand:
//! each is a string enum built from the type's own list of values, so it cannot drift from
//! what the type reads and writes.

use crate::{ClientAuthMethod, GrantType};
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::{PartialSchema, ToSchema};

fn string_enum(description: &str, values: impl IntoIterator<Item = &'static str>) -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .description(Some(description))
        .enum_values(Some(values))
        .into()
}

impl PartialSchema for GrantType {
    fn schema() -> RefOr<Schema> {
        string_enum(
            "A grant type (RFC 6749 §4, RFC 8628, RFC 7523)",
            GrantType::ALL.map(GrantType::as_str),
        )
    }
}

impl ToSchema for GrantType {}

impl PartialSchema for ClientAuthMethod {
    fn schema() -> RefOr<Schema> {
        string_enum(
            "How the client authenticates at the token endpoint (RFC 7591 §2)",
            ClientAuthMethod::ALL.map(ClientAuthMethod::as_str),
        )
    }
}

impl ToSchema for ClientAuthMethod {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enums_list_every_wire_value() {
        let v = serde_json::to_value(GrantType::schema()).unwrap_or_default();
        assert_eq!(
            v["enum"].as_array().map(Vec::len),
            Some(GrantType::ALL.len())
        );
        assert!(
            v["enum"]
                .as_array()
                .is_some_and(|a| a.contains(&"client_credentials".into()))
        );
        let v = serde_json::to_value(ClientAuthMethod::schema()).unwrap_or_default();
        assert!(
            v["enum"]
                .as_array()
                .is_some_and(|a| a.contains(&"private_key_jwt".into()))
        );
    }
}
