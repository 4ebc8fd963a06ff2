-- Only client_secret_jwt clients may keep an encrypted (recoverable) copy of their secrets: the
-- server needs it to check their assertions. Copies left behind by a change of method away
-- from client_secret_jwt are deleted; the hashes stay, so the secrets keep working.
UPDATE client_secrets SET encrypted = NULL
WHERE encrypted IS NOT NULL
  AND client_id IN (
    SELECT client_id FROM clients
    WHERE json_extract(data, '$.token_endpoint_auth_method') IS NOT 'client_secret_jwt'
  );
