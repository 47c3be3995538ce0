package io.cleargate.moderation;

/**
 * One moderation finding, as shown to the client (without the matched text) and kept in the audit trail.
 *
 * @param ruleId    the rule in the tenant's profile that matched
 * @param category  for example pii.email, secret.private_key, injection
 * @param action    what was done
 * @param direction input (prompt) or output (completion)
 * @param start     start offset (UTF-16 chars) in the original text; for input, in the concatenated messages
 * @param end       end offset, exclusive
 * @param score     detector confidence in [0, 1]
 * @param field     where the span lies when it is not the message text: for example
 *                  {@code tool_calls[0].arguments} (output) or {@code messages[2].tool_calls[0].arguments}
 *                  (input); null for the text itself
 */
public record Verdict(String ruleId, String category, Action action, Direction direction, int start, int end,
        double score, String field) {

    public Verdict(String ruleId, String category, Action action, Direction direction, int start, int end,
            double score) {
        this(ruleId, category, action, direction, start, end, score, null);
    }

    public enum Action { BLOCK, REDACT, FLAG }

    public enum Direction { INPUT, OUTPUT }
}
