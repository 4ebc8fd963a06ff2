-- Whether the user's password was set by someone else (an administrator, a generated one) and
-- must be replaced by the user at their next sign-in before it lets them in.

ALTER TABLE users ADD COLUMN password_temporary BOOLEAN NOT NULL DEFAULT FALSE;
