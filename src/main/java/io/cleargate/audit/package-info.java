/**
 * The audit trail: a durable, tamper-evident, privacy-preserving record of every request, its
 * decisions and its content, with a compliance API.
 *
 * <ul>
 *   <li>{@link io.cleargate.audit.AuditStage} commits a request record before the engine is called
 *       and a final record before the end of the stream moves on towards the client (fail closed:
 *       503 {@code audit_unavailable} otherwise). Refusals by earlier stages and early endings are
 *       recorded in {@code onComplete}.</li>
 *   <li>It reads {@code Principal.KEY}, {@code PolicyDecision.KEY}, {@code Exchange.ROUTE} and
 *       {@link io.cleargate.moderation.ModerationKeys#VERDICTS}: the moderation stages put a
 *       {@link io.cleargate.moderation.VerdictList} there, holding the input verdicts by the end of
 *       the input moderation request phase and input plus output verdicts by the end-of-stream
 *       chunk (replace the attribute with the cumulative list).</li>
 *   <li>{@link io.cleargate.audit.AuditWriter} is the single group-commit writer; one hash chain
 *       per tenant ({@code _system} for events without a tenant), heads locked per batch. It hands
 *       each batch to one of two commit paths: {@link io.cleargate.audit.DirectCommit} (a JDBC
 *       transaction; PostgreSQL) or, on an embedded H2 file, {@link io.cleargate.audit.JournaledCommit}:
 *       a batch is durable once appended to {@link io.cleargate.audit.Journal} and forced, and
 *       {@link io.cleargate.audit.JournalApplier} gives H2 the rows a moment later, so whoever reads
 *       the audit tables calls {@link io.cleargate.audit.AuditWriter#awaitStored()} first.</li>
 *   <li>It implements {@link io.cleargate.identity.AdminEvents} (administrative events in the same
 *       chains) and {@link io.cleargate.policy.DecisionInputs} (recorded policy inputs for what-if
 *       replays); {@link io.cleargate.audit.ComplianceResource} is reached through the admin shell
 *       ({@link io.cleargate.identity.Authorize}).</li>
 * </ul>
 * The chain, checkpoints, export format and replica design are documented in audit/README.md.
 */
package io.cleargate.audit;
