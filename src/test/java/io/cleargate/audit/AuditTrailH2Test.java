package io.cleargate.audit;

import io.quarkus.test.junit.QuarkusTest;

/** The audit trail on the embedded H2 database (the default %test datasource). */
@QuarkusTest
class AuditTrailH2Test extends AuditTrailContract {}
