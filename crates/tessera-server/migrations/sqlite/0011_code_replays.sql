-- When an authorization code was presented again after its first use. The exchange that used it
-- first records its tokens only where this is still empty, and revokes them otherwise, so a
-- replay that lands while the first exchange is still issuing is not missed (RFC 9700 §4.2.4).
ALTER TABLE authorization_codes ADD COLUMN replayed_at INTEGER;
