package io.cleargate.audit;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;

/**
 * Told of the charges of final records on the audit writer's connection, inside the transaction
 * that commits them, so whatever it keeps commits (or rolls back) with the records themselves. An
 * exception fails the batch: the requests are answered 503 audit_unavailable, as for any write the
 * trail cannot make.
 */
public interface ChargeSink {
    void charged(Connection transaction, List<Charge> charges) throws SQLException;
}
