package io.cleargate.audit;

import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;

/** The audit trail on a real PostgreSQL server started by the test harness. */
@QuarkusTest
@TestProfile(PostgresProfile.class)
class AuditTrailPostgresTest extends AuditTrailContract {}
