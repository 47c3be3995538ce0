package io.cleargate.engine.embedded;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

/** Settings of the embedded engine shared by every kind=embedded backend. */
@ConfigMapping(prefix = "cleargate.embedded")
public interface EmbeddedConfig {

    /**
     * Positions (prompt + generated tokens) one sequence may use, further capped by the model's
     * max_position_embeddings. Sizes the per-sequence latent KV cache; longer prompts are refused.
     */
    @WithDefault("4096")
    int maxContext();
}
