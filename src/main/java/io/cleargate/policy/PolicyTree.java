package io.cleargate.policy;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The policies/ directory as a map of relative path to content: the Rego modules and the data.json
 * documents that OPA loads. It is the source of truth; activation writes it after OPA accepted the
 * change. Paths are validated so a draft can never leave the directory or touch the system policies.
 */
public final class PolicyTree {

    /**
     * Editable files live under cleargate/ (the only data OPA lets administration write), in
     * lower-case segments, and are Rego modules or data.json documents.
     */
    private static final Pattern EDITABLE =
            Pattern.compile("cleargate/([a-z0-9_-]+/)*([a-z0-9_-]+\\.rego|data\\.json)");
    /** A quick first refusal; the authoritative check reads the package OPA's parser sees (PolicyScope). */
    private static final Pattern SYSTEM_PACKAGE = Pattern.compile("(?m)^\\s*package\\s+system\\b");
    static final int MAX_FILE_CHARS = 256 * 1024;

    private final Path root;

    public PolicyTree(Path root) {
        this.root = Objects.requireNonNull(root, "root").toAbsolutePath().normalize();
    }

    public Path root() {
        return root;
    }

    /** Every policy file, sorted by path. */
    public Map<String, String> snapshot() {
        return read(root);
    }

    static Map<String, String> read(Path dir) {
        Map<String, String> files = new TreeMap<>();
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.filter(Files::isRegularFile).toList()) {
                String rel = dir.relativize(p).toString().replace('\\', '/');
                if (isPolicyFile(rel)) {
                    files.put(rel, Files.readString(p, StandardCharsets.UTF_8));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read policies from " + dir, e);
        }
        return files;
    }

    static boolean isPolicyFile(String rel) {
        if (rel.startsWith(".") || rel.contains("/.")) {
            return false;
        }
        return rel.endsWith(".rego") || rel.endsWith("/data.json") || rel.equals("data.json");
    }

    /** Whether {@code path} has the shape of an editable policy file (who may edit it is PolicyScope's question). */
    static boolean isEditablePath(String path) {
        return path != null && EDITABLE.matcher(path).matches();
    }

    /** Throws IllegalArgumentException when a draft may not write {@code path} with {@code content}. */
    static void checkEditable(String path, String content) {
        if (path == null || !EDITABLE.matcher(path).matches()) {
            throw new IllegalArgumentException("'" + path + "' is not an editable policy path (lower-case segments,"
                    + " ending in .rego or data.json)");
        }
        if (path.startsWith("cleargate/meta/")) {
            throw new IllegalArgumentException("'" + path + "': cleargate/meta holds the revision set on activation");
        }
        if (content != null) {
            if (content.length() > MAX_FILE_CHARS) {
                throw new IllegalArgumentException("'" + path + "' is larger than " + MAX_FILE_CHARS + " characters");
            }
            if (path.endsWith(".rego") && SYSTEM_PACKAGE.matcher(content).find()) {
                throw new IllegalArgumentException("'" + path + "' declares a system package");
            }
        }
    }

    /** The tree after applying {@code changes} (path to new content, null content deletes). */
    static Map<String, String> apply(Map<String, String> base, Map<String, String> changes) {
        Map<String, String> result = new TreeMap<>(base);
        changes.forEach((path, content) -> {
            if (content == null) {
                result.remove(path);
            } else {
                result.put(path, content);
            }
        });
        return result;
    }

    /** The changes under cleargate/ that turn {@code from} into {@code to} (operators own the rest). */
    static Map<String, String> changes(Map<String, String> from, Map<String, String> to) {
        Map<String, String> changes = new TreeMap<>();
        to.forEach((path, content) -> {
            if (path.startsWith("cleargate/") && !content.equals(from.get(path))) {
                changes.put(path, content);
            }
        });
        from.keySet().forEach(path -> {
            if (path.startsWith("cleargate/") && !to.containsKey(path)) {
                changes.put(path, null);
            }
        });
        return changes;
    }

    /** Writes a whole tree into an empty directory (a draft's temporary copy). */
    static void writeAll(Path dir, Map<String, String> files) {
        files.forEach((path, content) -> write(dir, path, content));
    }

    /** Applies changes to this directory, each file replaced atomically. */
    public void writeChanges(Map<String, String> changes) {
        changes.forEach((path, content) -> {
            if (content == null) {
                try {
                    Files.deleteIfExists(root.resolve(path));
                } catch (IOException e) {
                    throw new UncheckedIOException("cannot delete " + path, e);
                }
            } else {
                write(root, path, content);
            }
        });
    }

    private static void write(Path dir, String path, String content) {
        Path target = dir.resolve(path).normalize();
        if (!target.startsWith(dir)) {
            throw new IllegalArgumentException("path escapes the policies directory: " + path);
        }
        try {
            Files.createDirectories(target.getParent());
            Path tmp = Files.createTempFile(target.getParent(), ".draft-", ".tmp");
            Files.writeString(tmp, content, StandardCharsets.UTF_8);
            Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + path, e);
        }
    }

    /**
     * The revision of a tree, the same as bin/lib/opa.sh's policy_revision: SHA-256 over the lines
     * "{sha256(file)}  ./{path}" in byte order of the paths, first 16 hex digits.
     */
    public static String revision(Map<String, String> files) {
        List<String> paths = new ArrayList<>(files.keySet());
        paths.sort((a, b) -> compareBytes("./" + a, "./" + b));
        StringBuilder listing = new StringBuilder();
        for (String path : paths) {
            listing.append(sha256(files.get(path))).append("  ./").append(path).append('\n');
        }
        return sha256(listing.toString()).substring(0, 16);
    }

    private static int compareBytes(String a, String b) {
        return java.util.Arrays.compareUnsigned(a.getBytes(StandardCharsets.UTF_8), b.getBytes(StandardCharsets.UTF_8));
    }

    static String sha256(String s) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
