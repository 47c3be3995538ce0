package io.cleargate.engine;

import java.util.List;
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
        Optional<String> apiKey) {

    public enum Kind { EMBEDDED, OPENAI }

    public Backend {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(kind, "kind");
        models = List.copyOf(models);
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

    public boolean serves(String model) {
        return models.contains(model);
    }

    @Override
    public String toString() {
        // Never print the credential.
        return "Backend[" + id + ", " + kind + ", region=" + region + ", models=" + models + "]";
    }
}
