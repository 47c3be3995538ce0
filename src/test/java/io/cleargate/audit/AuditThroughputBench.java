package io.cleargate.audit;

import io.quarkus.narayana.jta.QuarkusTransaction;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import java.nio.file.Path;
import org.eclipse.microprofile.config.inject.ConfigProperty;

/** {@link AuditStoreBench} on a real PostgreSQL (fsync on, synchronous commit). Run by bench/audit/run.sh. */
@QuarkusTest
@TestProfile(PostgresProfile.class)
class AuditThroughputBench extends AuditStoreBench {

    @ConfigProperty(name = "bench.store-directory") String directory;

    @Override
    String store() {
        return "postgresql";
    }

    @Override
    Path storeDirectory() {
        return Path.of(directory);
    }

    /** Tables and their indexes and TOAST; the write-ahead log is recycled, so it is left out. */
    @Override
    long storeBytes() {
        return QuarkusTransaction.requiringNew().call(() -> ((Number) em.createNativeQuery(
                "SELECT pg_total_relation_size('audit_entry') + pg_total_relation_size('audit_chain')"
                        + " + pg_total_relation_size('usage_month') + pg_total_relation_size('audit_key')")
                .getSingleResult()).longValue());
    }
}
