package io.cleargate.config;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import io.smallrye.config.WithName;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Gateway-wide settings under the {@code cleargate.} prefix. See application.properties for the defaults in use. */
@ConfigMapping(prefix = "cleargate")
public interface GatewayConfig {

    /** Limits applied to incoming requests before any stage runs. */
    Limits limits();

    /** Timeouts and caps for calls to OpenAI-compatible upstreams. */
    Upstream upstream();

    /** Configured backends by id. */
    Map<String, BackendConfig> backends();

    interface Limits {
        /** Largest accepted request body; larger ones get 413 before being read. */
        @WithDefault("1048576")
        long maxBodyBytes();

        /** max_tokens used when the request names none (policy may lower it). */
        @WithDefault("512")
        int defaultMaxTokens();

        /** Largest max_tokens accepted at all, whatever the policy says. */
        @WithDefault("32768")
        int maxTokensCeiling();

        /** Most messages accepted in one request. */
        @WithDefault("1024")
        int maxMessages();
    }

    interface Upstream {
        @WithDefault("2s")
        Duration connectTimeout();

        /** Until the response status and headers arrive. */
        @WithDefault("30s")
        Duration firstByteTimeout();

        /** Longest silence between two streamed chunks. */
        @WithDefault("30s")
        Duration betweenChunkTimeout();

        /** Whole request, from connect to the last byte. */
        @WithDefault("10m")
        Duration totalTimeout();

        /** Largest upstream response body accepted; a larger one is cut off and reported. */
        @WithDefault("16777216")
        long maxResponseBytes();
    }

    interface BackendConfig {
        /** embedded or openai. */
        String kind();

        @WithName("base-url")
        Optional<String> baseUrl();

        @WithName("model-dir")
        Optional<String> modelDir();

        /** Chat models this backend serves, by the gateway's model ids. */
        Optional<List<String>> models();

        /** Embedding models this backend serves at {base-url}/embeddings (openai backends only). */
        @WithName("embedding-models")
        Optional<List<String>> embeddingModels();

        /**
         * The names the upstream serves the gateway's models under, when they differ: gateway model
         * id → served name (for example {@code served-names.deepseek-v3=deepseek-ai/DeepSeek-V3}).
         * Clients only ever see and send the gateway's ids.
         */
        @WithName("served-names")
        Map<String, String> servedNames();

        @WithDefault("local")
        String region();

        @WithDefault("LOCAL")
        String jurisdiction();

        @WithDefault("1")
        int weight();

        @WithName("max-concurrency")
        @WithDefault("64")
        int maxConcurrency();

        /** Credential sent upstream as a bearer token. Put it in an environment variable, not in the file. */
        @WithName("api-key")
        Optional<String> apiKey();
    }
}
