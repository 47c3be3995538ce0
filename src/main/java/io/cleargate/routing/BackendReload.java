package io.cleargate.routing;

import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import io.cleargate.engine.Backend;
import io.cleargate.engine.Engine;
import io.cleargate.engine.EngineRegistry;
import io.cleargate.identity.AdminEvents;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import org.jboss.logging.Logger;

/**
 * Replaces the backends without a restart, from the backends file ({@code cleargate.routing.backends-file},
 * watched for changes, or on demand through {@code POST /admin/backends/reload}). A reload is
 * validated as a whole (every declaration, link-local and metadata addresses refused), every new or
 * changed backend must answer its health probe before the new set takes traffic, and the swap is
 * atomic: requests already running finish on the engines they started with. Accepted and refused
 * reloads are admin events in the {@code _system} audit chain.
 */
public final class BackendReload implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(BackendReload.class);
    static final String SYSTEM_CHAIN = "_system";

    /** The outcome of one reload; {@code problems} non-empty means nothing changed. */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    public record Result(boolean applied, long generation, List<String> added, List<String> changed,
            List<String> removed, List<String> problems) {}

    private final EngineRegistry registry;
    private final BackendPool pool;
    private final AdminEvents events;
    private final Optional<Path> file;
    private final UnaryOperator<String> environment;
    private String lastSeenHash;
    private ScheduledExecutorService watcher;

    BackendReload(EngineRegistry registry, BackendPool pool, AdminEvents events, Optional<Path> file,
            UnaryOperator<String> environment) {
        this.registry = registry;
        this.pool = pool;
        this.events = events;
        this.file = file;
        this.environment = environment;
        // The file as it is at start is what configuration already loaded (or chose not to).
        this.lastSeenHash = file.map(BackendReload::hashOf).orElse(null);
    }

    Optional<Path> file() {
        return file;
    }

    /** Re-reads the file when its content changed since the last look (the watcher calls this). */
    synchronized Optional<Result> reloadIfChanged() {
        if (file.isEmpty()) {
            return Optional.empty();
        }
        String hash = hashOf(file.get());
        if (hash == null || hash.equals(lastSeenHash)) {
            return Optional.empty();
        }
        lastSeenHash = hash;
        return Optional.of(reload("backends-file-watch"));
    }

    /** Reads the file and installs it when valid and every new or changed backend answers its probe. */
    public synchronized Result reload(String actor) {
        if (file.isEmpty()) {
            return rejected(actor, List.of("no backends file is configured (cleargate.routing.backends-file)"));
        }
        String text;
        try {
            text = Files.readString(file.get(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            return rejected(actor, List.of(file.get() + ": cannot read (" + e.getClass().getSimpleName() + ")"));
        }
        lastSeenHash = hashOf(file.get());
        BackendsFile.Parsed parsed = BackendsFile.parse(text, environment);
        List<String> problems = new ArrayList<>(parsed.problems());
        for (Backend b : parsed.backends().values()) {
            try {
                BackendPool.refuseDangerousAddress(b, pool.allowLinkLocal());
            } catch (IllegalStateException e) {
                problems.add(e.getMessage());
            }
        }
        if (!problems.isEmpty()) {
            return rejected(actor, problems);
        }
        EngineRegistry.Snapshot before = registry.snapshot();
        Map<String, Backend> next = parsed.backends();
        List<String> added = new ArrayList<>();
        List<String> changed = new ArrayList<>();
        next.forEach((id, b) -> before.backend(id).ifPresentOrElse(old -> {
            if (!old.equals(b)) {
                changed.add(id);
            }
        }, () -> added.add(id)));
        List<String> removed = before.backends().stream().map(Backend::id).filter(id -> !next.containsKey(id)).toList();
        if (added.isEmpty() && changed.isEmpty() && removed.isEmpty()) {
            return new Result(false, before.generation(), List.of(), List.of(), List.of(), List.of());
        }
        Map<String, Engine> engines;
        try {
            engines = registry.prepare(next);
        } catch (RuntimeException e) {
            return rejected(actor, List.of("could not create the engines: " + e.getMessage()));
        }
        for (String id : concat(added, changed)) {
            boolean up;
            try {
                up = engines.get(id).healthy();
            } catch (RuntimeException e) {
                up = false;
            }
            if (!up) {
                problems.add("backend " + id + " did not answer its health probe; it would have taken traffic down");
            }
        }
        if (!problems.isEmpty()) {
            registry.discard(engines);
            return rejected(actor, problems);
        }
        EngineRegistry.Snapshot installed = registry.replace(next, engines);
        pool.follow(new TreeSet<>(concat(added, changed)), Set.copyOf(removed));
        Result result = new Result(true, installed.generation(), added, changed, removed, List.of());
        Map<String, Object> details = new LinkedHashMap<>();
        details.put("generation", installed.generation());
        details.put("added", added);
        details.put("changed", changed);
        details.put("removed", removed);
        events.record(SYSTEM_CHAIN, actor, "backends.reload", details);
        LOG.infof("backends reloaded by %s: generation %d, added %s, changed %s, removed %s", actor,
                installed.generation(), added, changed, removed);
        return result;
    }

    private Result rejected(String actor, List<String> problems) {
        List<String> bounded = problems.stream().limit(50).map(p -> p.length() > 500 ? p.substring(0, 500) : p).toList();
        try {
            events.record(SYSTEM_CHAIN, actor, "backends.reload.rejected", Map.of("problems", bounded));
        } catch (RuntimeException e) {
            LOG.errorf("could not audit a refused backend reload: %s", e.getClass().getSimpleName());
        }
        LOG.errorf("backend reload by %s refused, keeping generation %d: %s", actor, registry.snapshot().generation(),
                String.join("; ", bounded));
        return new Result(false, registry.snapshot().generation(), List.of(), List.of(), List.of(), bounded);
    }

    void watch(java.time.Duration interval) {
        if (file.isEmpty()) {
            return;
        }
        watcher = Executors.newSingleThreadScheduledExecutor(Thread.ofVirtual().name("backends-file-watch").factory());
        long ms = Math.max(200, interval.toMillis());
        watcher.scheduleWithFixedDelay(() -> {
            try {
                reloadIfChanged();
            } catch (RuntimeException e) {
                LOG.error("backend reload failed; keeping the backends in force", e);
            }
        }, ms, ms, TimeUnit.MILLISECONDS);
    }

    @Override
    public void close() {
        if (watcher != null) {
            watcher.shutdownNow();
        }
    }

    private static List<String> concat(List<String> a, List<String> b) {
        List<String> out = new ArrayList<>(a);
        out.addAll(b);
        return out;
    }

    private static String hashOf(Path path) {
        try {
            byte[] bytes = Files.readAllBytes(path);
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (IOException e) {
            return null;
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
