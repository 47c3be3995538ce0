package io.cleargate.pipeline;

/**
 * A choice's text as its chunks add up (the JSON answer's sink, the audit stage's record of what was
 * released). A non-streamed answer comes as one chunk, whose text is kept as it is; only a second
 * chunk starts a builder (a builder for one chunk copied the answer twice: growing to hold it, then
 * into the string).
 */
public final class ReleasedText {
    private String only = "";
    private StringBuilder more;

    public void append(String piece) {
        if (more != null) {
            more.append(piece);
        } else if (only.isEmpty()) {
            only = piece;
        } else if (!piece.isEmpty()) {
            more = new StringBuilder(Math.max(64, 2 * (only.length() + piece.length()))).append(only).append(piece);
            only = null;
        }
    }

    public boolean isEmpty() {
        return more == null ? only.isEmpty() : more.isEmpty();
    }

    @Override
    public String toString() {
        return more == null ? only : more.toString();
    }
}
