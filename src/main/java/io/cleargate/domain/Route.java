package io.cleargate.domain;

/**
 * Where a request was served: the backend, its region and its jurisdiction. Recorded for the
 * response headers, the audit trail and the metrics.
 */
public record Route(String backendId, String region, String jurisdiction) {}
