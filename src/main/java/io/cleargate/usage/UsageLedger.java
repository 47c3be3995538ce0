package io.cleargate.usage;

import io.cleargate.audit.Canonical;
import io.cleargate.audit.ChainHead;
import io.cleargate.audit.Charge;
import io.cleargate.audit.ChargeSink;
import io.cleargate.pipeline.GatewayError;
import io.cleargate.pipeline.GatewayException;
import io.cleargate.policy.Spending;
import io.quarkus.narayana.jta.QuarkusTransaction;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.persistence.EntityManager;
import jakarta.persistence.LockModeType;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.YearMonth;
import java.time.ZoneOffset;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.jboss.logging.Logger;

/**
 * Token usage and cost per tenant, key (or user), model and month, kept from the audit trail's
 * final records: added to in the transaction that commits each record ({@link ChargeSink}), so the
 * aggregate never counts a request the trail lacks nor misses one it holds, and rebuildable from the
 * records alone. Budgets read it ({@link Spending}) with one indexed sum per request.
 */
@ApplicationScoped
public class UsageLedger implements ChargeSink, Spending {

    private static final Logger LOG = Logger.getLogger(UsageLedger.class);
    private static final int REBUILD_PAGE = 500;

    /** Rows are locked in this order, in every replica, so two writers never wait on each other in a circle. */
    private static final Comparator<UsageMonth.Id> ORDER = Comparator.<UsageMonth.Id, String>comparing(i -> i.tenant)
            .thenComparing(i -> i.period).thenComparing(i -> i.subject).thenComparing(i -> i.model);

    private final EntityManager em;

    /** Readers wait for every acknowledged record to be in the database (see {@link io.cleargate.audit.AuditWriter#awaitStored()}). */
    @Inject
    io.cleargate.audit.AuditWriter writer;

    @Inject
    public UsageLedger(EntityManager em) {
        this.em = em;
    }

    /** Sums of one key of the aggregate. */
    private static final class Sum {
        long requests;
        long estimated;
        long prompt;
        long completion;
        long costNanos;
        String currency;

        void add(Charge c) {
            requests++;
            estimated += c.estimated() ? 1 : 0;
            prompt += c.promptTokens();
            completion += c.completionTokens();
            costNanos += c.costNanos();
            currency = c.currency() != null ? c.currency() : currency;
        }
    }

    /** Runs on the audit writer's connection, inside the transaction that commits the records (see {@link ChargeSink}). */
    @Override
    public void charged(Connection transaction, List<Charge> charges) throws SQLException {
        add(transaction, sum(charges), Instant.now());
    }

    private static Map<UsageMonth.Id, Sum> sum(Iterable<Charge> charges) {
        Map<UsageMonth.Id, Sum> sums = new TreeMap<>(ORDER);
        for (Charge c : charges) {
            sums.computeIfAbsent(new UsageMonth.Id(c.tenant(), c.month().toString(), c.subject(), c.model()),
                    k -> new Sum()).add(c);
        }
        return sums;
    }

    /**
     * Adds each sum to its row, creating the rows that do not exist yet. Plain JDBC on the given
     * connection: the audit writer runs it in its own transaction, with no persistence context (as
     * a JPQL bulk update it took a fifth of the writer's CPU per batch). A replica inserting the
     * same new row at once makes the insert fail; the writer then retries its batch, which finds
     * the row.
     */
    private static void add(Connection c, Map<UsageMonth.Id, Sum> sums, Instant now) throws SQLException {
        OffsetDateTime at = now.atOffset(ZoneOffset.UTC);
        for (var e : sums.entrySet()) {
            if (addTo(c, e.getKey(), e.getValue(), at) == 0) {
                insert(c, e.getKey(), e.getValue(), at);
            }
        }
    }

    /** Adds to an existing row; 0 when there is none yet. */
    private static int addTo(Connection c, UsageMonth.Id id, Sum s, OffsetDateTime now) throws SQLException {
        try (var update = c.prepareStatement("UPDATE usage_month SET requests = requests + ?,"
                + " estimated_requests = estimated_requests + ?, prompt_tokens = prompt_tokens + ?,"
                + " completion_tokens = completion_tokens + ?, cost_nanos = cost_nanos + ?,"
                + " currency = COALESCE(?, currency), updated_at = ?"
                + " WHERE tenant = ? AND period = ? AND subject = ? AND model = ?")) {
            update.setLong(1, s.requests);
            update.setLong(2, s.estimated);
            update.setLong(3, s.prompt);
            update.setLong(4, s.completion);
            update.setLong(5, s.costNanos);
            update.setString(6, s.currency);
            update.setObject(7, now);
            update.setString(8, id.tenant);
            update.setString(9, id.period);
            update.setString(10, id.subject);
            update.setString(11, id.model);
            return update.executeUpdate();
        }
    }

    private static void insert(Connection c, UsageMonth.Id id, Sum s, OffsetDateTime now) throws SQLException {
        try (var insert = c.prepareStatement("INSERT INTO usage_month (tenant, period, subject, model, requests,"
                + " estimated_requests, prompt_tokens, completion_tokens, cost_nanos, currency, updated_at)"
                + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
            insert.setString(1, id.tenant);
            insert.setString(2, id.period);
            insert.setString(3, id.subject);
            insert.setString(4, id.model);
            insert.setLong(5, s.requests);
            insert.setLong(6, s.estimated);
            insert.setLong(7, s.prompt);
            insert.setLong(8, s.completion);
            insert.setLong(9, s.costNanos);
            insert.setString(10, s.currency);
            insert.setObject(11, now);
            insert.executeUpdate();
        }
    }

    @Override
    public MonthToDate monthToDate(String tenant, String subject, YearMonth month) {
        stored();
        try {
            Object[] row = QuarkusTransaction.requiringNew().call(() -> (Object[]) em.createQuery(
                    "select coalesce(sum(u.promptTokens + u.completionTokens), 0), coalesce(sum(u.costNanos), 0),"
                            + " coalesce(sum(case when u.id.subject = :s then u.promptTokens + u.completionTokens"
                            + " else 0 end), 0),"
                            + " coalesce(sum(case when u.id.subject = :s then u.costNanos else 0 end), 0)"
                            + " from UsageMonth u where u.id.tenant = :t and u.id.period = :m")
                    .setParameter("t", tenant).setParameter("m", month.toString()).setParameter("s", subject)
                    .getSingleResult());
            return new MonthToDate(month, new Spent(number(row[0]), cost(number(row[1]))),
                    new Spent(number(row[2]), cost(number(row[3]))));
        } catch (RuntimeException e) {
            LOG.errorf("usage of tenant %s unreadable: %s", tenant, e.getClass().getSimpleName());
            throw new GatewayException(GatewayError.unavailable("usage_unavailable",
                    "This tenant's budgets cannot be checked right now; the request was not processed."));
        }
    }

    /** The aggregate rows of a tenant (every tenant when null) and month, in key order. */
    public List<UsageMonth> rows(String tenant, YearMonth month) {
        stored();
        return QuarkusTransaction.requiringNew().call(() -> {
            var query = em.createQuery("from UsageMonth u where u.id.period = :m"
                    + (tenant == null ? "" : " and u.id.tenant = :t")
                    + " order by u.id.tenant, u.id.subject, u.id.model", UsageMonth.class)
                    .setParameter("m", month.toString());
            return (tenant == null ? query : query.setParameter("t", tenant)).getResultList();
        });
    }

    /**
     * Recomputes a tenant's aggregate from the final records of its trail that still hold their
     * metadata, replacing every month. Holds the tenant's chain head locked meanwhile, so no final
     * record of the tenant commits half-counted. Returns the number of records counted.
     */
    public long rebuild(String tenant) {
        stored();
        return QuarkusTransaction.requiringNew().timeout(600).call(() -> {
            em.find(ChainHead.class, tenant, LockModeType.PESSIMISTIC_WRITE);
            em.createQuery("delete from UsageMonth u where u.id.tenant = :t").setParameter("t", tenant).executeUpdate();
            Map<UsageMonth.Id, Sum> sums = new TreeMap<>(ORDER);
            long counted = 0;
            long after = -1;
            while (true) {
                List<Object[]> page = em.createQuery("select e.id, e.body from AuditEntry e where e.chainId = :t"
                        + " and e.kind = 'final' and e.body is not null and e.id > :after order by e.id", Object[].class)
                        .setParameter("t", tenant).setParameter("after", after).setMaxResults(REBUILD_PAGE)
                        .getResultList();
                for (Object[] r : page) {
                    after = (Long) r[0];
                    Charge c = Charge.fromBody(Canonical.parse((String) r[1]));
                    if (c != null && tenant.equals(c.tenant())) {
                        counted++;
                        sums.computeIfAbsent(new UsageMonth.Id(c.tenant(), c.month().toString(), c.subject(),
                                c.model()), k -> new Sum()).add(c);
                    }
                }
                if (page.size() < REBUILD_PAGE) {
                    break;
                }
                em.clear();
            }
            Instant now = Instant.now();
            em.unwrap(org.hibernate.Session.class).doWork(c -> add(c, sums, now));
            return counted;
        });
    }

    private static long number(Object o) {
        return o instanceof Number n ? n.longValue() : 0;
    }

    static double cost(long nanos) {
        return nanos / 1e9;
    }
    private void stored() {
        if (writer != null) {
            writer.awaitStored();
        }
    }
}
