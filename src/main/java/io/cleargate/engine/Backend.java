package io.cleargate.engine;

import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * A configured place that can serve models: the embedded engine or an OpenAI-compatible server.
 * Backend addresses come only from configuration, never from a request.
 *
 * @param id           stable name used in headers, metrics and the audit trail
 * @param kind         embedded or openai
 * @param baseUrl      for openai backends, the URL that ends before /chat/completions (for example http://127.0.0.1:8000/v1)
 * @param modelDir     for embedded backends, the checkpoint directory
 * @param models       model ids this backend serves
 * @param region       region label, for example eu-west
 * @param jurisdiction legal jurisdiction, for example EU
 * @param weight       relative share of traffic among equally good candidates
 * @param maxConcurrency requests this backend may have in flight at once
 * @param apiKey       credential sent upstream (resolved from configuration, never logged)
 * @param embeddingModels model ids this backend serves embeddings for (openai backends only)
 * @param servedNames  the upstream's own name for a gateway model id, where it differs
 */
public record Backend(
        String id,
        Kind kind,
        Optional<String> baseUrl,
        Optional<String> modelDir,
        List<String> models,
        String region,
        String jurisdiction,
        int weight,
        int maxConcurrency,
        Optional<String> apiKey,
        List<String> embeddingModels,
        Map<String, String> servedNames) {

    public enum Kind { EMBEDDED, OPENAI }

    public Backend {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(kind, "kind");
        models = List.copyOf(models);
        embeddingModels = embeddingModels == null ? List.of() : List.copyOf(embeddingModels);
        servedNames = servedNames == null ? Map.of() : Map.copyOf(servedNames);
        if (models.isEmpty() && embeddingModels.isEmpty()) {
            throw new IllegalArgumentException("backend " + id + ": set models or embedding-models");
        }
        if (kind == Kind.EMBEDDED && !embeddingModels.isEmpty()) {
            throw new IllegalArgumentException("backend " + id + ": the embedded engine serves no embedding models");
        }
        if (kind == Kind.OPENAI && baseUrl.isEmpty()) {
            throw new IllegalArgumentException("backend " + id + ": an openai backend needs base-url");
        }
        if (weight < 0) {
            throw new IllegalArgumentException("backend " + id + ": weight must be >= 0");
        }
        if (maxConcurrency <= 0) {
            throw new IllegalArgumentException("backend " + id + ": max-concurrency must be > 0");
        }
    }

    /** A backend as configured before embeddings and served names existed: chat models only. */
    public Backend(String id, Kind kind, Optional<String> baseUrl, Optional<String> modelDir, List<String> models,
            String region, String jurisdiction, int weight, int maxConcurrency, Optional<String> apiKey) {
        this(id, kind, baseUrl, modelDir, models, region, jurisdiction, weight, maxConcurrency, apiKey, List.of(),
                Map.of());
    }

    public boolean serves(String model) {
        return models.contains(model);
    }

    public boolean servesEmbeddings(String model) {
        return embeddingModels.contains(model);
    }

    /** The name the upstream knows {@code model} by: its served name if one is configured, else the id itself. */
    public String servedName(String model) {
        return servedNames.getOrDefault(model, model);
    }

    @Override
    public String toString() {
        // Never print the credential.
        return "Backend[" + id + ", " + kind + ", region=" + region + ", models=" + models + "]";
    }
}
