-- Token usage and cost per tenant, key (or user), model and UTC month (io.cleargate.usage.UsageMonth).
-- Updated in the transaction that commits each final audit record; rebuildable from those records.
CREATE TABLE usage_month (
    tenant             VARCHAR(255) NOT NULL,
    subject            VARCHAR(255) NOT NULL,
    model              VARCHAR(255) NOT NULL,
    period             VARCHAR(7)   NOT NULL,
    requests           BIGINT NOT NULL,
    estimated_requests BIGINT NOT NULL,
    prompt_tokens      BIGINT NOT NULL,
    completion_tokens  BIGINT NOT NULL,
    cost_nanos         BIGINT NOT NULL,
    currency           VARCHAR(16),
    updated_at         TIMESTAMP WITH TIME ZONE NOT NULL,
    PRIMARY KEY (tenant, period, subject, model)
);
