package io.cleargate.audit;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/** Audit trail settings under {@code cleargate.audit.}. */
@ConfigMapping(prefix = "cleargate.audit")
public interface AuditConfig {

    /** Where development keys are generated when none are configured (master key, checkpoint key). */
    @WithDefault("${CLEARGATE_DATA_DIR:data}")
    String dataDir();

    /** Base64 of 32 bytes wrapping every data key. Production sets it from a secret; dev generates one in data-dir. */
    Optional<String> masterKey();

    /** Base64 of the 32-byte Ed25519 seed signing checkpoints and export headers. Dev generates one in data-dir. */
    Optional<String> signingKey();

    /**
     * Raw 32-byte Ed25519 public keys (hex) of signing keys used before a rotation. Checkpoints
     * they signed keep verifying online and are listed in every export's header.
     */
    Optional<List<String>> previousPublicKeys();

    /** Where checkpoints are copied outside the database. */
    Witness witness();

    interface Witness {
        /**
         * Append-only file receiving every signed checkpoint (one JSON line each, fsynced); the
         * signer also reads it back as the last head it signed, so a head rewritten in the
         * database together with its stored checkpoints is still refused. Ship it elsewhere.
         */
        @WithDefault("${CLEARGATE_DATA_DIR:data}/audit/witness.jsonl")
        String file();

        /** Optional HTTP endpoint receiving each checkpoint as a JSON POST (a transparency log, a SIEM). */
        Optional<String> url();

        /** How long a POST to the HTTP witness may take. */
        @WithDefault("2s")
        Duration timeout();
    }

    /** How long a request waits for its record to become durable before it is refused. */
    @WithDefault("5s")
    Duration commitTimeout();

    /** Most entries written in one transaction. */
    @WithDefault("256")
    int maxBatch();

    /** How often chain heads that moved are signed. */
    @WithDefault("10s")
    String checkpointEvery();

    /**
     * Free space the embedded database's file system must keep (H2 only; PostgreSQL guards its own
     * disk). Below it no audit batch is written (requests get 503) and readiness reads DOWN, before
     * H2 could meet a full disk, which it does not survive without a restart; UP again once there
     * is space. Bytes, or with a K/M/G suffix.
     */
    @WithDefault("64M")
    io.quarkus.runtime.configuration.MemorySize minFreeSpace();

    /**
     * Size of each of the embedded database's two journal files (H2 only), written full of zeros
     * when created. A batch of records is durable once appended to the current one and forced; the
     * writer moves to the other once H2 holds and has forced everything in it. Bytes, or K/M/G.
     */
    @WithDefault("8M")
    io.quarkus.runtime.configuration.MemorySize journalSize();

    /** How often readiness probes the store by writing to it (finding 12: a full disk must read DOWN). */
    @WithDefault("2s")
    String probeEvery();

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
