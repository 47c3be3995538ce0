package io.cleargate.audit;

/** Where an appended entry landed: its row id, chain, sequence number in that chain and entry hash. */
public record Appended(long id, String chain, long seq, String entryHash) {}
