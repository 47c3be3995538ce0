package io.cleargate.routing;

import io.cleargate.engine.Backend;
import io.cleargate.engine.EngineRegistry;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.jboss.logging.Logger;

/**
 * The backends with their health: active probes on a timer, passive results from requests, and
 * the ordering of candidates (healthy first, then by outstanding requests per unit of weight).
 */
public final class BackendPool implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(BackendPool.class);
    private static final Set<String> METADATA_HOSTS = Set.of("metadata.google.internal", "metadata",
            "instance-data", "metadata.azure.internal");

    private final EngineRegistry registry;
    private final RoutingConfig config;
    private final Map<String, BackendHealth> health = new java.util.concurrent.ConcurrentHashMap<>();
    /** The last active probe's answer per backend; absent until the first probe has run. */
    private final Map<String, Boolean> probedUp = new java.util.concurrent.ConcurrentHashMap<>();
    private final ScheduledExecutorService prober;
    private final MeterRegistry meters;
    /**
     * The attempts counter per backend, region and outcome, as the registry registered it: looking
     * it up in the registry builds and sorts its tags for every request.
     */
    private final Map<AttemptKey, io.micrometer.core.instrument.Counter> attempts =
            new java.util.concurrent.ConcurrentHashMap<>();

    private record AttemptKey(String backend, String region, String outcome) {}

    public BackendPool(EngineRegistry registry, RoutingConfig config, MeterRegistry meters) {
        this.registry = registry;
        this.config = config;
        this.meters = meters;
        for (Backend backend : registry.backends()) {
            refuseDangerousAddress(backend, config.allowLinkLocal());
            track(backend);
        }
        prober = Executors.newSingleThreadScheduledExecutor(Thread.ofVirtual().name("backend-prober").factory());
        long interval = config.healthInterval().toMillis();
        // The first round runs at once (in the background), so readiness is known soon after start.
        prober.scheduleWithFixedDelay(this::probeAll, 0, interval, TimeUnit.MILLISECONDS);
    }

    private void track(Backend backend) {
        health.put(backend.id(), new BackendHealth(config.failureThreshold(), config.openDuration(),
                backend.maxConcurrency(), config.tenantShare()));
        if (meters != null) {
            meters.gauge("cleargate.backend.up", Tags.of("backend", backend.id(), "region", backend.region()),
                    this, pool -> pool.available(backend.id()) ? 1 : 0);
        }
    }

    /**
     * Follows a reload: new or changed backends get fresh health (already probed up by the
     * reload), unchanged ones keep theirs, removed ones are forgotten once their requests end.
     */
    void follow(java.util.Set<String> fresh, java.util.Set<String> removed) {
        for (Backend backend : registry.backends()) {
            if (fresh.contains(backend.id()) || !health.containsKey(backend.id())) {
                track(backend);
                probedUp.put(backend.id(), true);
            }
        }
        removed.forEach(probedUp::remove);
    }

    boolean allowLinkLocal() {
        return config.allowLinkLocal();
    }

    EngineRegistry registry() {
        return registry;
    }

    /**
     * True when the backend answered its last health probe and its circuit lets traffic through
     * (readiness and the backend_up gauge read this; routing itself only needs the circuit).
     */
    public boolean available(String backendId) {
        return probedUp.getOrDefault(backendId, false) && health(backendId).available();
    }

    BackendHealth health(String backendId) {
        // a request planned before a reload may still name a backend the reload removed
        return health.computeIfAbsent(backendId, id -> new BackendHealth(config.failureThreshold(), config.openDuration(),
                registry.snapshot().backend(id).map(Backend::maxConcurrency).orElse(64), config.tenantShare()));
    }

    /** Candidates ordered for trying: available circuits first, then least outstanding per weight. */
    List<Backend> order(List<Backend> candidates) {
        if (candidates.size() < 2) {
            return List.copyOf(candidates); // nothing to order (most plans name one backend)
        }
        return candidates.stream()
                .map(b -> Map.entry(b, ThreadLocalRandom.current().nextDouble()))
                .sorted(Comparator.<Map.Entry<Backend, Double>, Boolean>comparing(e -> !health(e.getKey().id()).available())
                        .thenComparingDouble(e -> load(e.getKey()))
                        .thenComparingDouble(Map.Entry::getValue))
                .map(Map.Entry::getKey)
                .toList();
    }

    private double load(Backend backend) {
        double weight = Math.max(backend.weight(), 0.001);
        return (health(backend.id()).inFlight() + 1) / weight;
    }

    void record(Backend backend, String outcome) {
        if (meters != null) {
            attempts.computeIfAbsent(new AttemptKey(backend.id(), backend.region(), outcome),
                    k -> meters.counter("cleargate.backend.attempts", "backend", k.backend(), "region", k.region(),
                            "outcome", k.outcome())).increment();
        }
    }

    /** One round of active health checks; a probe counts like a request for the circuit. */
    void probeAll() {
        for (Backend backend : registry.backends()) {
            boolean up;
            try {
                up = registry.engine(backend.id()).healthy();
            } catch (RuntimeException e) {
                up = false;
            }
            probedUp.put(backend.id(), up);
            BackendHealth h = health(backend.id());
            if (up) {
                h.success();
            } else {
                h.failure();
                LOG.debugf("backend %s failed its health probe", backend.id());
            }
        }
    }

    /**
     * Refuses link-local and cloud-metadata backend addresses: a misconfigured (or injected) base
     * URL there would hand the gateway's credentials to the instance metadata service.
     */
    static void refuseDangerousAddress(Backend backend, boolean allowLinkLocal) {
        if (allowLinkLocal || backend.baseUrl().isEmpty()) {
            return;
        }
        URI uri = URI.create(backend.baseUrl().get());
        String host = uri.getHost() == null ? "" : uri.getHost().toLowerCase(Locale.ROOT);
        if (!Set.of("http", "https").contains(String.valueOf(uri.getScheme()).toLowerCase(Locale.ROOT))) {
            throw new IllegalStateException("backend " + backend.id() + ": base-url must be http or https");
        }
        if (METADATA_HOSTS.contains(host)) {
            throw new IllegalStateException("backend " + backend.id() + ": " + host
                    + " is a cloud metadata address; set cleargate.routing.allow-link-local=true to allow it");
        }
        try {
            for (InetAddress address : InetAddress.getAllByName(host.replace("[", "").replace("]", ""))) {
                if (address.isLinkLocalAddress() || isEc2Ipv6Metadata(address)) {
                    throw new IllegalStateException("backend " + backend.id() + ": " + host
                            + " is a link-local/metadata address; set cleargate.routing.allow-link-local=true to allow it");
                }
            }
        } catch (UnknownHostException e) {
            // Not resolvable now; the health checks will report it. DNS could later point it at a
            // metadata address, which is why production deployments also restrict egress (k8s/).
            LOG.warnf("backend %s: host %s does not resolve yet", backend.id(), host);
        }
    }

    private static boolean isEc2Ipv6Metadata(InetAddress address) {
        return address.getHostAddress().toLowerCase(Locale.ROOT).startsWith("fd00:ec2:");
    }

    @Override
    public void close() {
        prober.shutdownNow();
    }
}
