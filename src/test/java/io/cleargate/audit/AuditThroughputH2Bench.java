package io.cleargate.audit;

import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/** {@link AuditStoreBench} on the default embedded store, an H2 file as the gateway configures it. Run by bench/audit/run.sh. */
@QuarkusTest
@TestProfile(AuditThroughputH2Bench.H2File.class)
class AuditThroughputH2Bench extends AuditStoreBench {

    static final Path DIR = Path.of("target/audit-bench-h2").toAbsolutePath();

    public static class H2File implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            try {
                if (Files.exists(DIR)) {
                    try (var files = Files.walk(DIR)) {
                        files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
                    }
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            return Map.of("quarkus.datasource.jdbc.url", "jdbc:h2:file:" + DIR + "/cleargate;DB_CLOSE_ON_EXIT=FALSE;WRITE_DELAY=0;CACHE_SIZE=2048");
        }
    }

    @Override
    String store() {
        return "h2";
    }

    @Override
    Path storeDirectory() {
        return DIR;
    }

    @Override
    long storeBytes() {
        try (var files = Files.list(DIR)) {
            return files.filter(p -> p.toString().endsWith(".mv.db")).mapToLong(p -> p.toFile().length()).sum();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
