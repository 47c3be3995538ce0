package io.cleargate.audit;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.time.Duration;
import java.util.Optional;

/** Audit trail settings under {@code cleargate.audit.}. */
@ConfigMapping(prefix = "cleargate.audit")
public interface AuditConfig {

    /** Where development keys are generated when none are configured (master key, checkpoint key). */
    @WithDefault("${CLEARGATE_DATA_DIR:data}")
    String dataDir();

    /** Base64 of 32 bytes wrapping every data key. Production sets it from a secret; dev generates one in data-dir. */
    Optional<String> masterKey();

    /** Base64 PKCS#8 Ed25519 private key signing checkpoints. Dev generates one in data-dir. */
    Optional<String> signingKey();

    /** How long a request waits for its record to become durable before it is refused. */
    @WithDefault("5s")
    Duration commitTimeout();

    /** Most entries written in one transaction. */
    @WithDefault("256")
    int maxBatch();

    /** How often chain heads that moved are signed. */
    @WithDefault("10s")
    String checkpointEvery();

    /** How often expired content and metadata are purged. */
    @WithDefault("1h")
    String purgeEvery();

    /**
     * HMAC look-ups one caller may make per minute. {@code POST /audit/hmac} is an oracle against
     * hash-only content (a guess can be checked), so it is rationed as well as audited.
     */
    @WithDefault("30")
    int hmacLookupsPerMinute();

    /** Retention used when no policy decision names one (denials before policy ran). */
    @WithDefault("365")
    int defaultMetadataRetentionDays();
}
