-- Audit trail (issue 5). Portable SQL: runs unchanged on H2 2.x and PostgreSQL 14+.
-- audit_entry is append-only evidence; only content and body may change after insert, and only
-- to be emptied (retention, erasure): the chain commits to their hashes, not to the columns.

CREATE SEQUENCE audit_entry_id_seq START WITH 1 INCREMENT BY 50;
CREATE SEQUENCE audit_checkpoint_id_seq START WITH 1 INCREMENT BY 50;
CREATE SEQUENCE audit_key_id_seq START WITH 1 INCREMENT BY 50;

-- One row per hash chain (one chain per tenant, "_system" for tenant-less admin events).
-- The writer locks the row (SELECT ... FOR UPDATE) for every batch, so replicas serialise.
CREATE TABLE audit_chain (
    chain_id   VARCHAR(200) NOT NULL PRIMARY KEY,
    head_seq   BIGINT       NOT NULL,
    head_hash  VARCHAR(64)  NOT NULL,
    updated_at TIMESTAMP WITH TIME ZONE NOT NULL
);

CREATE TABLE audit_entry (
    id                  BIGINT        NOT NULL PRIMARY KEY,
    chain_id            VARCHAR(200)  NOT NULL,
    seq                 BIGINT        NOT NULL,
    kind                VARCHAR(20)   NOT NULL,
    request_id          VARCHAR(200),
    recorded_at         TIMESTAMP WITH TIME ZONE NOT NULL,
    tenant              VARCHAR(200),
    subject             VARCHAR(400),
    model               VARCHAR(200),
    region              VARCHAR(100),
    decision            VARCHAR(10)   NOT NULL,
    state               VARCHAR(20)   NOT NULL,
    http_status         INTEGER,
    tags                VARCHAR(4000) NOT NULL,
    body                TEXT,
    body_sha256         VARCHAR(64)   NOT NULL,
    prev_hash           VARCHAR(64)   NOT NULL,
    entry_hash          VARCHAR(64)   NOT NULL,
    content             TEXT,
    content_mode        VARCHAR(20)   NOT NULL,
    content_expires_at  TIMESTAMP WITH TIME ZONE,
    metadata_expires_at TIMESTAMP WITH TIME ZONE,
    CONSTRAINT audit_entry_chain_seq UNIQUE (chain_id, seq)
);
CREATE INDEX audit_entry_tenant_time ON audit_entry (tenant, recorded_at);
CREATE INDEX audit_entry_request ON audit_entry (request_id, kind);
CREATE INDEX audit_entry_time ON audit_entry (recorded_at);

CREATE TABLE audit_checkpoint (
    id         BIGINT       NOT NULL PRIMARY KEY,
    chain_id   VARCHAR(200) NOT NULL,
    seq        BIGINT       NOT NULL,
    head_hash  VARCHAR(64)  NOT NULL,
    signed_at  VARCHAR(40)  NOT NULL,
    key_id     VARCHAR(64)  NOT NULL,
    signature  VARCHAR(200) NOT NULL
);
CREATE INDEX audit_checkpoint_chain ON audit_checkpoint (chain_id, seq);

-- Per (tenant, subject) content keys wrapped by the master key; wrapped_key NULL = shredded.
CREATE TABLE audit_key (
    id           BIGINT       NOT NULL PRIMARY KEY,
    tenant       VARCHAR(200) NOT NULL,
    subject      VARCHAR(400) NOT NULL,
    purpose      VARCHAR(10)  NOT NULL,
    wrapped_key  VARCHAR(200),
    created_at   TIMESTAMP WITH TIME ZONE NOT NULL,
    destroyed_at TIMESTAMP WITH TIME ZONE
);
CREATE INDEX audit_key_owner ON audit_key (tenant, subject, purpose);

CREATE TABLE audit_legal_hold (
    tenant  VARCHAR(200) NOT NULL PRIMARY KEY,
    reason  VARCHAR(1000) NOT NULL,
    set_by  VARCHAR(400) NOT NULL,
    set_at  TIMESTAMP WITH TIME ZONE NOT NULL
);
