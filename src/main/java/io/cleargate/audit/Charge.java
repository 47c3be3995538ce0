package io.cleargate.audit;

import java.time.Instant;
import java.time.YearMonth;
import java.time.ZoneOffset;
import java.util.Map;
import java.util.TreeMap;

/**
 * What one request consumed, as its final audit record states it (body member {@code usage}).
 * The record is the source of truth: the usage ledger adds each charge to its month's aggregate in
 * the transaction that commits the record, and rebuilds the aggregate from the bodies alone.
 *
 * @param tenant           the tenant charged
 * @param subject          the API key ({@code api-key:<id>}) or user that made the request
 * @param model            the gateway's model id (never an upstream's served name)
 * @param month            the UTC month the final record was written in
 * @param promptTokens     prompt tokens, as the engine reported them or estimated
 * @param completionTokens completion tokens, as the engine reported them or estimated
 * @param costNanos        cost in billionths of {@code currency}; 0 for an unpriced model
 * @param currency         the policy's currency; null for an unpriced model
 * @param estimated        true when the engine reported no usage (an answer stopped by the
 *                         content filter, a client that went away, an upstream that failed mid-answer)
 */
public record Charge(String tenant, String subject, String model, YearMonth month, long promptTokens,
        long completionTokens, long costNanos, String currency, boolean estimated) {

    /** The body member {@code usage} of a final record. */
    Map<String, Object> toBody() {
        Map<String, Object> m = new TreeMap<>(); // sorted: the body's writer copies any other map
        m.put("prompt_tokens", promptTokens);
        m.put("completion_tokens", completionTokens);
        m.put("estimated", estimated);
        if (currency != null) {
            m.put("cost_nanos", costNanos);
            m.put("currency", currency);
        }
        return m;
    }

    /**
     * The charge a final record's body states, or null when it states none (a refusal, a request
     * that never reached a model, a record whose metadata was purged).
     */
    public static Charge fromBody(Map<String, ?> body) {
        if (!"final".equals(body.get("kind")) || !(body.get("usage") instanceof Map<?, ?> usage)
                || !(body.get("tenant") instanceof String tenant) || !(body.get("time") instanceof String time)) {
            return null;
        }
        String currency = usage.get("currency") instanceof String c ? c : null;
        return new Charge(tenant, String.valueOf(body.get("subject")),
                body.get("model") == null ? "" : body.get("model").toString(),
                YearMonth.from(Instant.parse(time).atZone(ZoneOffset.UTC)), number(usage.get("prompt_tokens")),
                number(usage.get("completion_tokens")), currency == null ? 0 : number(usage.get("cost_nanos")), currency,
                Boolean.TRUE.equals(usage.get("estimated")));
    }

    private static long number(Object o) {
        return o instanceof Number n ? n.longValue() : 0;
    }
}
