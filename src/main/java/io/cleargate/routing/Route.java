package io.cleargate.routing;

import io.cleargate.pipeline.Exchange;

/** Where a request was (or will be) served: recorded for the response headers and the audit trail. */
public record Route(String backendId, String region, String jurisdiction) {
    public static final Exchange.Key<Route> KEY = Exchange.Key.of("route", Route.class);
}
