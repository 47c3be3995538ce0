package io.cleargate.policy;

import java.time.YearMonth;

/**
 * Month-to-date usage, for the policy input of tenants with budgets ({@code input.usage}). The
 * usage ledger implements it from the audit trail's final records. An implementation that cannot
 * answer throws {@link io.cleargate.pipeline.GatewayException} (503): a budgeted request is never
 * decided on a guess.
 */
public interface Spending {

    /** Tokens (prompt plus completion) and cost in the policy's currency. */
    record Spent(long tokens, double cost) {}

    /** What the tenant and the caller's key (or user) used in {@code month}. */
    record MonthToDate(YearMonth month, Spent tenant, Spent key) {}

    MonthToDate monthToDate(String tenant, String subject, YearMonth month);
}
