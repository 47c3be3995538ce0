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
 */
public record Verdict(String ruleId, String category, Action action, Direction direction, int start, int end,
        double score) {

    public enum Action { BLOCK, REDACT, FLAG }

    public enum Direction { INPUT, OUTPUT }
}
