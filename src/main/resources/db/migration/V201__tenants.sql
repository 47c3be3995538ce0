-- Tenants the gateway serves. A token or API key naming a tenant that is absent or inactive here
-- is refused by the resolve-tenant stage. Portable H2 / PostgreSQL SQL.
CREATE TABLE tenants (
    id            VARCHAR(64)  NOT NULL PRIMARY KEY,
    display_name  VARCHAR(200) NOT NULL,
    jurisdiction  VARCHAR(16)  NOT NULL,
    active        BOOLEAN      NOT NULL,
    created_at    TIMESTAMP WITH TIME ZONE NOT NULL
);
