package io.cleargate.policy;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;
import org.jboss.logging.Logger;

/**
 * The policy bundle as the gateway's policy tree ({@code cleargate.policy.bundle}), for Kubernetes:
 * the OPA sidecar loads and verifies the signed bundle, and the gateway unpacks the policy files of
 * the same file into {@code cleargate.policy.admin.directory}, so the tenants, the moderation
 * profiles and policy administration all read what OPA runs. It unpacks before anything else starts
 * and again whenever the file changes (a ConfigMap updated in place), then the tenant table follows.
 * Only policy files are taken ({@code .rego} and {@code data.json} under relative paths, never
 * {@code cleargate/meta}, which only OPA reads); the directory is replaced as a whole.
 *
 * <p>Nothing is taken from a bundle whose signature does not verify with
 * {@code cleargate.policy.bundle-verification-key} ({@link BundleSignature}: the same checks OPA
 * makes). At start such a bundle stops the gateway from starting (the pod never becomes ready; the
 * log says why). Later, a changed bundle that does not verify is refused and the last verified tree
 * stays in force, as OPA keeps its last verified bundle, so both keep deciding from one revision.
 */
@ApplicationScoped
public class PolicyBundle {

    private static final Logger LOG = Logger.getLogger(PolicyBundle.class);
    private static final long MAX_BUNDLE_BYTES = 32L << 20;

    private final Optional<Path> bundle;
    private final Path directory;
    private final PolicyConfig config;
    private final PolicyTenants tenants;
    private final PolicyDecisions decisions;
    private final ObjectMapper json;
    private String lastHash;
    private String lastRefusedHash;
    private ScheduledExecutorService watcher;

    @Inject
    public PolicyBundle(PolicyConfig config, PolicyTenants tenants, PolicyDecisions decisions, ObjectMapper json) {
        this.bundle = config.bundle().filter(s -> !s.isBlank()).map(Path::of);
        this.directory = Path.of(config.admin().directory());
        this.config = config;
        this.tenants = tenants;
        this.decisions = decisions;
        this.json = json;
    }

    /** Before the tenant table, the moderation profiles and policy administration read the directory. */
    void onStart(@Observes @Priority(10) StartupEvent event) {
        if (bundle.isEmpty()) {
            return;
        }
        if (config.bundleVerificationKey().filter(s -> !s.isBlank()).isEmpty()) {
            throw new IllegalStateException("cleargate.policy.bundle is set but cleargate.policy.bundle-verification-key is"
                    + " not: the gateway takes no policy from a bundle it cannot verify");
        }
        if (!unpackIfChanged()) {
            throw new IllegalStateException("cleargate.policy.bundle " + bundle.get()
                    + " could not be unpacked or did not verify; the gateway does not start without a verified policy tree");
        }
        long ms = Math.max(1000, config.bundleReloadInterval().toMillis());
        watcher = Executors.newSingleThreadScheduledExecutor(Thread.ofVirtual().name("policy-bundle-watch").factory());
        watcher.scheduleWithFixedDelay(() -> {
            try {
                if (unpackIfChanged()) {
                    tenants.sync(PolicyTree.read(directory));
                    decisions.policyChanged();
                }
            } catch (RuntimeException e) {
                LOG.errorf("policy bundle reload failed, keeping the tree in force: %s", e.getMessage());
            }
        }, ms, ms, TimeUnit.MILLISECONDS);
    }

    void onStop(@Observes ShutdownEvent event) {
        if (watcher != null) {
            watcher.shutdownNow();
        }
    }

    /** Unpacks the bundle when its bytes changed; true when a new tree is in place. */
    synchronized boolean unpackIfChanged() {
        byte[] bytes;
        try {
            if (Files.size(bundle.get()) > MAX_BUNDLE_BYTES) {
                LOG.errorf("policy bundle %s is larger than %d bytes; not unpacked", bundle.get(), MAX_BUNDLE_BYTES);
                return false;
            }
            bytes = Files.readAllBytes(bundle.get());
        } catch (IOException e) {
            LOG.errorf("cannot read the policy bundle %s: %s", bundle.get(), e.getClass().getSimpleName());
            return false;
        }
        String hash = sha256(bytes);
        if (hash.equals(lastHash)) {
            return false;
        }
        BundleSignature verifier;
        try {
            verifier = verifier();
        } catch (IOException | IllegalArgumentException e) {
            LOG.errorf("policy bundle %s not unpacked: the verification key %s is unusable: %s", bundle.get(),
                    config.bundleVerificationKey().orElse(""), e.getMessage());
            return false;
        }
        Map<String, String> files;
        String revision;
        try {
            Map<String, byte[]> entries = untar(bytes);
            verifier.verify(entries);
            revision = entries.containsKey(".manifest")
                    ? String.valueOf(json.readTree(entries.get(".manifest")).path("revision").asText("unversioned"))
                    : "unversioned";
            files = policyFiles(entries);
        } catch (BundleSignature.Refused e) {
            if (!hash.equals(lastRefusedHash)) {
                LOG.errorf("policy bundle %s refused: %s; %s", bundle.get(), e.getMessage(),
                        lastHash == null ? "no verified policy tree yet" : "the last verified tree stays in force");
            }
            lastRefusedHash = hash;
            return false;
        } catch (IOException | IllegalArgumentException e) {
            LOG.errorf("policy bundle %s is not a usable bundle: %s", bundle.get(), e.getMessage());
            return false;
        }
        replaceDirectory(files);
        lastHash = hash;
        lastRefusedHash = null;
        LOG.infof("policy bundle %s (revision %s) signature verified and unpacked into %s: %d policy files, tree revision %s",
                bundle.get(), revision, directory, files.size(), PolicyTree.revision(files));
        return true;
    }

    /** A verifier for the configured key, read on every new bundle so a rotated key ConfigMap applies without a restart. */
    private BundleSignature verifier() throws IOException {
        Path key = Path.of(config.bundleVerificationKey().orElseThrow());
        if (Files.size(key) > 64 * 1024) {
            throw new IllegalArgumentException("the bundle verification key " + key + " is too large to be a public key");
        }
        return BundleSignature.of(Files.readString(key, StandardCharsets.US_ASCII), config.bundleVerificationAlgorithm());
    }

    /** The policy files of a bundle: .rego and data.json at safe relative paths, without cleargate/meta. */
    static Map<String, String> policyFiles(Map<String, byte[]> entries) {
        Map<String, String> files = new TreeMap<>();
        entries.forEach((name, content) -> {
            String path = name.startsWith("/") ? name.substring(1) : name;
            if (path.startsWith("cleargate/meta/") || !PolicyTree.isPolicyFile(path)) {
                return;
            }
            if (path.contains("..") || path.contains("\\") || path.contains("//") || path.startsWith("/")) {
                throw new IllegalArgumentException("bundle entry '" + name + "' is not a plain relative path");
            }
            if (content.length > 4 * PolicyTree.MAX_FILE_CHARS) {
                throw new IllegalArgumentException("bundle entry '" + name + "' is too large");
            }
            files.put(path, new String(content, StandardCharsets.UTF_8));
        });
        if (files.keySet().stream().noneMatch(p -> p.endsWith(".rego"))) {
            throw new IllegalArgumentException("the bundle holds no policy");
        }
        return files;
    }

    /** Writes the tree beside the directory, then swaps it in, so readers see the old or the new tree. */
    private void replaceDirectory(Map<String, String> files) {
        try {
            Path parent = directory.toAbsolutePath().getParent();
            Files.createDirectories(parent);
            Path fresh = Files.createTempDirectory(parent, ".policies-new-");
            PolicyTree.writeAll(fresh, files);
            Path old = parent.resolve(".policies-old-" + System.nanoTime());
            if (Files.exists(directory)) {
                Files.move(directory, old, StandardCopyOption.ATOMIC_MOVE);
            }
            Files.move(fresh, directory, StandardCopyOption.ATOMIC_MOVE);
            deleteQuietly(old);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the policy tree to " + directory, e);
        }
    }

    /**
     * The regular files of a gzipped tar (ustar names with prefixes, GNU long names; directories
     * skipped). Links, other member types and a name given twice make the bundle unusable.
     */
    static Map<String, byte[]> untar(byte[] gz) throws IOException {
        Map<String, byte[]> files = new TreeMap<>();
        try (InputStream in = new GZIPInputStream(new java.io.ByteArrayInputStream(gz))) {
            byte[] header = new byte[512];
            long total = 0;
            String longName = null;
            while (in.readNBytes(header, 0, 512) == 512 && header[0] != 0) {
                String name = field(header, 0, 100);
                String prefix = field(header, 345, 155);
                if (longName != null) {
                    name = longName;
                    longName = null;
                } else if (!prefix.isEmpty()) {
                    name = prefix + "/" + name;
                }
                String sizeField = field(header, 124, 12).trim();
                long size = sizeField.isEmpty() ? 0 : Long.parseLong(sizeField, 8);
                total += size;
                if (size < 0 || total > 4 * MAX_BUNDLE_BYTES) {
                    throw new IOException("the bundle unpacks to more than " + 4 * MAX_BUNDLE_BYTES + " bytes");
                }
                byte[] content = in.readNBytes((int) size);
                in.readNBytes((int) ((512 - size % 512) % 512));
                byte type = header[156];
                if (type == 'L') {
                    // GNU tar's long name: the next member's name, NUL-terminated.
                    longName = new String(content, StandardCharsets.UTF_8).replace("\0", "");
                } else if (type == '0' || type == 0) {
                    // Two members of one name would let the second replace a file after its digest was checked.
                    if (files.put(BundleSignature.normalise(name), content) != null) {
                        throw new IOException("the bundle holds " + BundleSignature.normalise(name) + " twice");
                    }
                } else if (type != '5') {
                    throw new IOException("the bundle holds " + name + ", which is neither a file nor a directory");
                }
            }
        }
        return files;
    }

    private static String field(byte[] header, int offset, int length) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int i = offset; i < offset + length && header[i] != 0; i++) {
            out.write(header[i]);
        }
        return out.toString(StandardCharsets.US_ASCII);
    }

    private static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void deleteQuietly(Path dir) {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            // a leftover copy of an old tree is harmless
        }
    }
}
