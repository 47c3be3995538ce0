package io.cleargate.moderation;

/**
 * A raw detector hit, before a rule decides what to do with it.
 *
 * @param start   start offset in the original text
 * @param end     end offset in the original text, exclusive
 * @param score   confidence in [0, 1]
 * @param view    the normalised view it was found in (clean, lower, compact, alnum)
 * @param pattern a short description of what matched (for explain mode; never the matched text)
 * @param value   the normalised matched text, used only to give equal values the same placeholder
 */
record Match(int start, int end, double score, String view, String pattern, String value) {}
