-- When each client last got a token (seconds since the epoch; NULL: never, or not since this
-- column exists), for the console's clients table. Written from memory every minute or so by
-- each instance, only forward (an instance with an older time never moves it back).

ALTER TABLE clients ADD COLUMN last_used_at BIGINT;
