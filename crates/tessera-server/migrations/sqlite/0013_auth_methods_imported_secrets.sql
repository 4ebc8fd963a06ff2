-- A client lists the token endpoint authentication methods it may use: the single
-- token_endpoint_auth_method of each registration becomes a one-item token_endpoint_auth_methods
-- list (existing clients keep exactly the method they had). A client secret imported by an admin,
-- rather than generated, is marked so that such clients can be found and rotated.
UPDATE clients
SET data = json_set(
        json_remove(data, '$.token_endpoint_auth_method'),
        '$.token_endpoint_auth_methods',
        json_array(json_extract(data, '$.token_endpoint_auth_method'))
    )
WHERE json_extract(data, '$.token_endpoint_auth_method') IS NOT NULL;

ALTER TABLE client_secrets ADD COLUMN imported BOOLEAN NOT NULL DEFAULT FALSE;

-- The resource indicators (RFC 8707) an authorization request named, as a JSON array: the token
-- request of the code may narrow them, never widen them.
ALTER TABLE authorization_codes ADD COLUMN resource TEXT;
