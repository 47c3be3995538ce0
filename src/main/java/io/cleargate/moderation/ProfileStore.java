package io.cleargate.moderation;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.jboss.logging.Logger;

/**
 * Holds the moderation profiles and reloads them when the file changes. A file that does not
 * parse or validate is reported (with every problem) and ignored: the last good set stays in
 * force. When no good set was ever loaded, the built-in copy on the class path is used, so
 * filtering is never off.
 */
final class ProfileStore implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(ProfileStore.class);
    static final String BUILTIN = "/moderation/builtin-profiles.json";

    /** One loaded set: where it came from, its content hash and when it was loaded. */
    record Snapshot(Map<String, Profile> profiles, String source, String sha256, Instant loadedAt) {}

    /** The outcome of the last load attempt, for the admin view and tests. */
    record Status(Snapshot active, List<String> lastProblems, Instant lastAttempt) {}

    private final Path path;
    private final AtomicReference<Status> status = new AtomicReference<>();
    private ScheduledExecutorService watcher;
    private String lastSeenHash;

    ProfileStore(Path path) {
        this.path = path;
        Snapshot builtin = loadBuiltin();
        status.set(new Status(builtin, List.of(), Instant.now()));
        reload();
    }

    /** Checks the file now; returns true when a new set became active. */
    synchronized boolean reload() {
        String json;
        try {
            json = Files.readString(path, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            return rejected(List.of(path + ": file not found"), null);
        } catch (IOException e) {
            return rejected(List.of(path + ": cannot read: " + e.getMessage()), null);
        }
        String hash = sha256(json);
        if (hash.equals(lastSeenHash)) {
            return false;
        }
        lastSeenHash = hash;
        try {
            Map<String, Profile> profiles = ProfileParser.parse(json);
            status.set(new Status(new Snapshot(profiles, path.toString(), hash, Instant.now()), List.of(), Instant.now()));
            LOG.infof("moderation profiles loaded from %s: %s (sha256 %s)", path, profiles.keySet(), hash.substring(0, 12));
            return true;
        } catch (ProfileParser.InvalidProfilesException e) {
            return rejected(e.problems(), hash);
        }
    }

    private boolean rejected(List<String> problems, String hash) {
        Status current = status.get();
        if (!problems.equals(current.lastProblems())) {
            LOG.errorf("moderation profiles in %s rejected, keeping %s (sha256 %s): %s", path, current.active().source(),
                    current.active().sha256().substring(0, 12), String.join("; ", problems));
        }
        status.set(new Status(current.active(), problems, Instant.now()));
        return false;
    }

    Optional<Profile> profile(String name) {
        return Optional.ofNullable(status.get().active().profiles().get(name));
    }

    Status status() {
        return status.get();
    }

    void watch(Duration interval) {
        watcher = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "moderation-profile-watch");
            t.setDaemon(true);
            return t;
        });
        long ms = Math.max(100, interval.toMillis());
        watcher.scheduleWithFixedDelay(() -> {
            try {
                reload();
            } catch (RuntimeException e) {
                LOG.error("moderation profile reload failed; keeping the active set", e);
            }
        }, ms, ms, TimeUnit.MILLISECONDS);
    }

    @Override
    public void close() {
        if (watcher != null) {
            watcher.shutdownNow();
        }
    }

    static Snapshot loadBuiltin() {
        try (InputStream in = ProfileStore.class.getResourceAsStream(BUILTIN)) {
            if (in == null) {
                throw new IllegalStateException("built-in moderation profiles missing from the class path: " + BUILTIN);
            }
            String json = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            return new Snapshot(ProfileParser.parse(json), "classpath:" + BUILTIN, sha256(json), Instant.now());
        } catch (IOException | ProfileParser.InvalidProfilesException e) {
            throw new IllegalStateException("built-in moderation profiles are invalid: " + e.getMessage(), e);
        }
    }

    private static String sha256(String s) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
