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
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;

/**
 * The backends and their engines, as one immutable {@link Snapshot} that a reload replaces whole.
 * A request plans and opens on the snapshot it started with (its route plan holds it), so a reload
 * never changes a request half-way; the engines a new snapshot no longer uses are closed once the
 * last request that leased the old snapshot has finished.
 */
@ApplicationScoped
public class EngineRegistry {

    /**
     * One generation of backends. Requests {@link #lease()} it while they use its engines;
     * {@link EngineRegistry#replace} retires it and closes what the next generation dropped once
     * no lease is left.
     */
    public static final class Snapshot {
        private final long generation;
        private final Map<String, Backend> backends;
        private final Map<String, Engine> engines;
        private final AtomicInteger leases = new AtomicInteger();
        private volatile List<Engine> toCloseWhenDrained;

        Snapshot(long generation, Map<String, Backend> backends, Map<String, Engine> engines) {
            this.generation = generation;
            this.backends = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(backends));
            this.engines = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(engines));
        }

        public long generation() {
            return generation;
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

        public List<Backend> servingModel(String model) {
            return backends.values().stream().filter(b -> b.serves(model)).toList();
        }

        /** The backends that can serve this request: its model, for chat or embeddings as it asks. */
        public List<Backend> serving(EngineRequest request) {
            return backends.values().stream().filter(b -> request.kind() == EngineRequest.Kind.EMBEDDINGS
                    ? b.servesEmbeddings(request.model()) : b.serves(request.model())).toList();
        }

        /** Keeps this generation's engines open until {@link #release()}. */
        public void lease() {
            leases.incrementAndGet();
        }

        public void release() {
            if (leases.decrementAndGet() == 0) {
                closeIfDrained();
            }
        }

        int leases() {
            return leases.get();
        }

        private void retire(List<Engine> dropped) {
            toCloseWhenDrained = List.copyOf(dropped);
            closeIfDrained();
        }

        private void closeIfDrained() {
            List<Engine> dropped = toCloseWhenDrained;
            if (dropped != null && leases.get() == 0) {
                synchronized (this) {
                    if (toCloseWhenDrained != null) {
                        toCloseWhenDrained.forEach(Engine::close);
                        toCloseWhenDrained = null;
                    }
                }
            }
        }
    }

    private final AtomicReference<Snapshot> current = new AtomicReference<>();
    private final Function<Backend, Engine> factory;

    @Inject
    public EngineRegistry(GatewayConfig config, Instance<EngineFactory> factories) {
        this.factory = backend -> factories.stream().filter(f -> f.kind() == backend.kind()).findFirst()
                .orElseThrow(() -> new IllegalStateException("no engine for backend kind " + backend.kind()))
                .create(backend);
        Map<String, Backend> backends = new LinkedHashMap<>();
        config.backends().forEach((id, c) -> backends.put(id, backend(id, c)));
        Map<String, Engine> engines = new LinkedHashMap<>();
        backends.forEach((id, b) -> engines.put(id, factory.apply(b)));
        current.set(new Snapshot(1, backends, engines));
    }

    /** For tests and tools: a registry over engines built by hand, in the given order. */
    public EngineRegistry(Map<Backend, Engine> byBackend) {
        this(byBackend, b -> {
            throw new IllegalStateException("this registry was built by hand and creates no engines");
        });
    }

    /** For tests and tools: engines built by hand, and how a reload makes new ones. */
    public EngineRegistry(Map<Backend, Engine> byBackend, Function<Backend, Engine> factory) {
        this.factory = factory;
        Map<String, Backend> backends = new LinkedHashMap<>();
        Map<String, Engine> engines = new LinkedHashMap<>();
        byBackend.forEach((backend, engine) -> {
            backends.put(backend.id(), backend);
            engines.put(backend.id(), engine);
        });
        current.set(new Snapshot(1, backends, engines));
    }

    /** A backend from its configuration entry; throws IllegalArgumentException naming what is wrong. */
    public static Backend backend(String id, GatewayConfig.BackendConfig c) {
        Backend.Kind kind;
        try {
            kind = Backend.Kind.valueOf(c.kind().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("backend " + id + ": kind must be embedded or openai, was '" + c.kind() + "'");
        }
        return new Backend(id, kind, c.baseUrl(), c.modelDir(), c.models().orElse(List.of()), c.region(), c.jurisdiction(),
                c.weight(), c.maxConcurrency(), c.apiKey(), c.embeddingModels().orElse(List.of()), c.servedNames());
    }

    /** The generation in force; plan and open a request on one snapshot. */
    public Snapshot snapshot() {
        return current.get();
    }

    public List<Backend> backends() {
        return snapshot().backends();
    }

    public Optional<Backend> backend(String id) {
        return snapshot().backend(id);
    }

    public Engine engine(String backendId) {
        return snapshot().engine(backendId);
    }

    /**
     * The model as a metric label: a model some backend serves, else "other", so a client cannot
     * mint label values (unbounded cardinality) by naming models that do not exist.
     */
    public String modelLabel(String model) {
        return model != null && backends().stream().anyMatch(b -> b.serves(model) || b.servesEmbeddings(model)) ? model : "other";
    }

    /** Every model some backend serves (chat or embeddings), sorted. */
    public List<String> models() {
        var models = new TreeSet<String>();
        snapshot().backends.values().forEach(b -> {
            models.addAll(b.models());
            models.addAll(b.embeddingModels());
        });
        return new ArrayList<>(models);
    }

    public List<Backend> servingModel(String model) {
        return snapshot().servingModel(model);
    }

    /** The backends that can serve this request: its model, for chat or embeddings as it asks. */
    public List<Backend> serving(EngineRequest request) {
        return snapshot().serving(request);
    }

    /**
     * The engines {@code backends} would use: the current engine where a backend is unchanged, a new
     * one otherwise. Nothing takes traffic until {@link #replace} installs them.
     */
    public Map<String, Engine> prepare(Map<String, Backend> backends) {
        Snapshot now = snapshot();
        Map<String, Engine> engines = new LinkedHashMap<>();
        backends.forEach((id, b) -> engines.put(id, b.equals(now.backends.get(id)) ? now.engines.get(id) : factory.apply(b)));
        return engines;
    }

    /** Closes engines {@link #prepare} made that will not be installed. */
    public void discard(Map<String, Engine> prepared) {
        Snapshot now = snapshot();
        prepared.forEach((id, engine) -> {
            if (now.engines.get(id) != engine) {
                engine.close();
            }
        });
    }

    /**
     * Installs a new generation. Requests already running keep the old one; the old engines that
     * the new generation does not reuse close when the last of them finishes.
     */
    public synchronized Snapshot replace(Map<String, Backend> backends, Map<String, Engine> engines) {
        Snapshot old = current.get();
        Snapshot next = new Snapshot(old.generation + 1, backends, engines);
        current.set(next);
        List<Engine> dropped = new ArrayList<>();
        old.engines.forEach((id, engine) -> {
            if (!engines.containsValue(engine)) {
                dropped.add(engine);
            }
        });
        old.retire(dropped);
        return next;
    }

    void shutdown(@Observes ShutdownEvent event) {
        snapshot().engines.values().forEach(Engine::close);
    }
}
