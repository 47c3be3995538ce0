package io.cleargate.identity.apikey;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.nio.file.Path;
import java.util.Optional;

/** Development-only settings under {@code cleargate.dev} (set by bin/cleargate up, never in production). */
@ConfigMapping(prefix = "cleargate.dev")
public interface DevKeyConfig {

    /** Create the development tenant and an API key holding every role at startup. */
    @WithDefault("false")
    boolean createKey();

    /** The key to use (environment CLEARGATE_DEV_KEY); generated when absent. Format cg_<8 hex>_<64 hex>. */
    Optional<String> key();

    /** Where a generated key is written (mode 600) for bin/cleargate up to print. */
    @WithDefault("data/dev-key")
    Path keyFile();

    /**
     * How long the development key lives. Short on purpose: it holds every role, so it must not
     * outlive the development session that made it (a restart in development renews it).
     */
    @WithDefault("P3D")
    java.time.Duration keyLifetime();

    /** The development tenant's id. */
    @WithDefault("dev")
    String tenant();
}
