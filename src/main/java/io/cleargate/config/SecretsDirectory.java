package io.cleargate.config;

import io.smallrye.config.EnvConfigSource;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * Secrets delivered as files instead of environment variables: when {@code CLEARGATE_SECRETS_DIR}
 * names a directory (in Kubernetes, a mounted Secret volume), each file in it is one setting,
 * named like the environment variable it replaces ({@code CLEARGATE_AUDIT_MASTER_KEY},
 * {@code CLEARGATE_DB_PASSWORD}, ...) and holding the value (a trailing line break is dropped).
 * Environment variables are readable by anything that can read {@code /proc/PID/environ}, are
 * inherited by child processes and show in container inspection; a file is read once, at start,
 * by the gateway alone.
 *
 * <p>Looked up exactly as environment variables are (so {@code CLEARGATE_AUDIT_MASTER_KEY} sets
 * {@code cleargate.audit.master-key}), above them and below system properties. Registered in
 * {@code META-INF/services}; read when the configuration is built, so a broken directory stops
 * the start with a message naming the file (never its content).
 */
public final class SecretsDirectory extends EnvConfigSource {

    /** The environment variable naming the directory. */
    public static final String VARIABLE = "CLEARGATE_SECRETS_DIR";
    /** Above environment variables (300), below system properties (400). */
    static final int ORDINAL = 350;
    /** A secret is small; anything larger is a mistake (a data file mounted in the wrong place). */
    static final int MAX_BYTES = 64 * 1024;
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9_.-]*");

    private final String name;

    public SecretsDirectory() {
        this(directory());
    }

    SecretsDirectory(Path directory) {
        super(read(directory), ORDINAL);
        // SmallRye Config exempts a source whose name starts with "EnvConfigSource" from the check
        // that every cleargate.* property maps to a field (an environment-style name such as
        // CLEARGATE_DB_URL is read through an expression, not a mapping); under any other name a
        // packaged gateway with its database secrets here refuses to start (SRCFG00050).
        this.name = "EnvConfigSource[SecretsDirectory " + directory + "]";
    }

    @Override
    public String getName() {
        return name;
    }

    private static Path directory() {
        String dir = System.getenv(VARIABLE);
        return dir == null || dir.isBlank() ? null : Path.of(dir);
    }

    static Map<String, String> read(Path directory) {
        Map<String, String> values = new TreeMap<>();
        if (directory == null) {
            return values;
        }
        if (!Files.isDirectory(directory)) {
            throw new IllegalStateException(VARIABLE + "=" + directory + " is not a directory");
        }
        try (DirectoryStream<Path> files = Files.newDirectoryStream(directory)) {
            for (Path file : files) {
                String key = file.getFileName().toString();
                // Kubernetes keeps its own bookkeeping in dot-named entries (..data, ..2026_...).
                if (key.startsWith(".") || !Files.isRegularFile(file)) {
                    continue;
                }
                if (!NAME.matcher(key).matches()) {
                    throw new IllegalStateException("secret file " + file + ": the name is not a setting's name");
                }
                if (Files.size(file) > MAX_BYTES) {
                    throw new IllegalStateException("secret file " + file + " is larger than " + MAX_BYTES + " bytes");
                }
                values.put(key, withoutLineBreak(Files.readString(file, StandardCharsets.UTF_8)));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the secrets directory " + directory, e);
        }
        return values;
    }

    private static String withoutLineBreak(String value) {
        int end = value.length();
        while (end > 0 && (value.charAt(end - 1) == '\n' || value.charAt(end - 1) == '\r')) {
            end--;
        }
        return value.substring(0, end);
    }
}
