-- API keys for service accounts. Only a SHA-256 hash of the secret is stored; the prefix is a
-- short public lookup handle (the key reads cg_<prefix>_<secret>). Portable H2 / PostgreSQL SQL.
CREATE TABLE api_keys (
    id           VARCHAR(36)  NOT NULL PRIMARY KEY,
    prefix       VARCHAR(16)  NOT NULL,
    secret_hash  VARCHAR(64)  NOT NULL,
    tenant       VARCHAR(64)  NOT NULL,
    name         VARCHAR(200) NOT NULL,
    roles        VARCHAR(500) NOT NULL,
    created_by   VARCHAR(300) NOT NULL,
    created_at   TIMESTAMP WITH TIME ZONE NOT NULL,
    expires_at   TIMESTAMP WITH TIME ZONE NOT NULL,
    revoked_at   TIMESTAMP WITH TIME ZONE,
    revoked_by   VARCHAR(300),
    CONSTRAINT uq_api_keys_prefix UNIQUE (prefix)
);

CREATE INDEX ix_api_keys_tenant ON api_keys (tenant);
