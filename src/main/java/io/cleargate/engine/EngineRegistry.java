package io.cleargate.engine;

import io.cleargate.config.GatewayConfig;
import io.cleargate.domain.EngineRequest;
import io.quarkus.runtime.ShutdownEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.enterprise.inject.Instance;
import jakarta.inject.Inject;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;

/** The configured backends and their engines, created once at startup. */
@ApplicationScoped
public class EngineRegistry {

    private final Map<String, Backend> backends = new LinkedHashMap<>();
    private final Map<String, Engine> engines = new LinkedHashMap<>();

    @Inject
    public EngineRegistry(GatewayConfig config, Instance<EngineFactory> factories) {
        config.backends().forEach((id, c) -> {
            Backend backend = new Backend(id, Backend.Kind.valueOf(c.kind().toUpperCase(Locale.ROOT)), c.baseUrl(),
                    c.modelDir(), c.models().orElse(List.of()), c.region(), c.jurisdiction(), c.weight(), c.maxConcurrency(), c.apiKey(),
                    c.embeddingModels().orElse(List.of()), c.servedNames());
            EngineFactory factory = factories.stream().filter(f -> f.kind() == backend.kind()).findFirst()
                    .orElseThrow(() -> new IllegalStateException("no engine for backend kind " + backend.kind()));
            backends.put(id, backend);
            engines.put(id, factory.create(backend));
        });
    }

    public List<Backend> backends() {
        return List.copyOf(backends.values());
    }

    public Optional<Backend> backend(String id) {
        return Optional.ofNullable(backends.get(id));
    }

    public Engine engine(String backendId) {
        Engine engine = engines.get(backendId);
        if (engine == null) {
            throw new IllegalArgumentException("unknown backend " + backendId);
        }
        return engine;
    }

    /**
     * The model as a metric label: a model some backend serves, else "other", so a client cannot
     * mint label values (unbounded cardinality) by naming models that do not exist.
     */
    public String modelLabel(String model) {
        return model != null && backends.values().stream().anyMatch(b -> b.serves(model) || b.servesEmbeddings(model)) ? model : "other";
    }

    /** Every model some backend serves (chat or embeddings), sorted. */
    public List<String> models() {
        var models = new TreeSet<String>();
        backends.values().forEach(b -> {
            models.addAll(b.models());
            models.addAll(b.embeddingModels());
        });
        return new ArrayList<>(models);
    }

    public List<Backend> servingModel(String model) {
        return backends.values().stream().filter(b -> b.serves(model)).toList();
    }

    /** The backends that can serve this request: its model, for chat or embeddings as it asks. */
    public List<Backend> serving(EngineRequest request) {
        return backends.values().stream().filter(b -> request.kind() == EngineRequest.Kind.EMBEDDINGS
                ? b.servesEmbeddings(request.model()) : b.serves(request.model())).toList();
    }

    /** For tests and tools: a registry over engines built by hand, in the given order. */
    public EngineRegistry(Map<Backend, Engine> byBackend) {
        byBackend.forEach((backend, engine) -> {
            backends.put(backend.id(), backend);
            engines.put(backend.id(), engine);
        });
    }

    void shutdown(@Observes ShutdownEvent event) {
        engines.values().forEach(Engine::close);
    }
}
