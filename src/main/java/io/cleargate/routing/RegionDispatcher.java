package io.cleargate.routing;

import io.cleargate.domain.EngineEvent;
import io.cleargate.domain.EngineException;
import io.cleargate.domain.EngineStream;
import io.cleargate.domain.Route;
import io.cleargate.engine.Backend;
import io.cleargate.identity.Principal;
import io.cleargate.engine.EngineRegistry;
import io.cleargate.pipeline.Dispatcher;
import io.cleargate.pipeline.EngineErrors;
import io.cleargate.pipeline.Exchange;
import io.cleargate.pipeline.GatewayError;
import io.cleargate.pipeline.GatewayException;
import java.util.ArrayList;
import java.util.List;

/**
 * Opens the engine stream on the best candidate of the route plan, failing over to the next
 * candidate while nothing has reached the client: a backend that refuses, times out or fails
 * before its first event is skipped. Candidates all come from the plan, so a failover never
 * leaves the regions the tenant's policy allows. A tenant holds at most its share of each
 * backend's slots: when it holds its share of every candidate it gets 429, while other tenants
 * are still served.
 */
public final class RegionDispatcher implements Dispatcher {

    private final BackendPool pool;
    private final int maxAttempts;

    public RegionDispatcher(BackendPool pool, int maxAttempts) {
        this.pool = pool;
        this.maxAttempts = maxAttempts;
    }

    @Override
    public EngineStream open(Exchange exchange) {
        // The routing stage cannot be switched off (Pipeline refuses), so a missing plan is a bug.
        RoutePlan plan = exchange.require(RoutePlan.KEY);
        String tenant = exchange.get(Principal.KEY).map(Principal::tenant).orElse(null);
        EngineRegistry.Snapshot backends = plan.registry();
        List<String> tried = new ArrayList<>();
        GatewayError lastError = null;
        int shareUsed = 0;
        for (Backend backend : pool.order(plan.candidates())) {
            if (tried.size() >= maxAttempts) {
                break;
            }
            BackendHealth health = pool.health(backend.id());
            BackendHealth.Admission admission = health.tryAcquire(tenant);
            if (admission != BackendHealth.Admission.ADMITTED) {
                shareUsed += admission == BackendHealth.Admission.TENANT_SHARE_USED ? 1 : 0;
                continue;
            }
            tried.add(backend.id());
            backends.lease(); // the engines of this generation stay open until the stream ends
            try {
                EngineStream stream = backends.engine(backend.id())
                        .open(exchange.engineRequest(), exchange.incoming().stream());
                EngineEvent first = stream.next(); // nothing has gone to the client yet: still safe to fail over
                record(exchange, backend, tried);
                pool.record(backend, "opened");
                return new TrackedStream(stream, first, health, tenant, backend, pool, backends);
            } catch (EngineException e) {
                backends.release();
                health.release(tenant);
                pool.record(backend, "failed");
                if (e.kind() == EngineException.Kind.INVALID_REQUEST) {
                    throw new GatewayException(EngineErrors.toGatewayError(e)); // another backend would say the same
                }
                health.failure();
                lastError = EngineErrors.toGatewayError(e);
            } catch (RuntimeException e) {
                backends.release();
                health.release(tenant);
                throw e;
            }
        }
        if (tried.isEmpty() && shareUsed > 0) {
            throw new GatewayException(tenantShareUsed());
        }
        GatewayError error = plan.noEligibleBackend();
        if (lastError != null) {
            error = error.withDetail("last_error", lastError.message()).withDetail("last_error_code", lastError.code());
        }
        throw new GatewayException(error.withDetail("tried_backends", List.copyOf(tried)));
    }

    /**
     * The tenant already holds its share of every backend that could serve it: a 429 for this
     * tenant alone (other tenants still have slots), with a short Retry-After.
     */
    static GatewayError tenantShareUsed() {
        return new GatewayError(429, "rate_limit_error", "tenant_concurrency_exceeded", null,
                "Your tenant already has as many requests in flight as its share of the backends allows;"
                        + " retry when one of them has finished.", null, java.util.Map.of("Retry-After", "1"));
    }

    private static void record(Exchange exchange, Backend backend, List<String> tried) {
        exchange.put(Exchange.ROUTE, new Route(backend.id(), backend.region(), backend.jurisdiction()));
        exchange.responseHeaders().put("x-cleargate-backend", backend.id());
        exchange.responseHeaders().put("x-cleargate-region", backend.region());
        if (tried.size() > 1) {
            exchange.responseHeaders().put("x-cleargate-failover", String.join(",", tried));
        }
    }

    /** Replays the first event, then delegates; reports the outcome to the backend's circuit. */
    private static final class TrackedStream implements EngineStream {
        private final EngineStream delegate;
        private final BackendHealth health;
        private final String tenant;
        private final Backend backend;
        private final BackendPool pool;
        private final EngineRegistry.Snapshot generation;
        private EngineEvent pending;
        private boolean released;
        private boolean closed;

        TrackedStream(EngineStream delegate, EngineEvent first, BackendHealth health, String tenant, Backend backend,
                BackendPool pool, EngineRegistry.Snapshot generation) {
            this.generation = generation;
            this.delegate = delegate;
            this.pending = first;
            this.health = health;
            this.tenant = tenant;
            this.backend = backend;
            this.pool = pool;
            if (first instanceof EngineEvent.Finish) {
                finish(true);
            }
        }

        @Override
        public EngineEvent next() throws EngineException {
            if (pending != null) {
                EngineEvent event = pending;
                pending = null;
                return event;
            }
            try {
                EngineEvent event = delegate.next();
                if (event instanceof EngineEvent.Finish) {
                    finish(true);
                }
                return event;
            } catch (EngineException e) {
                pool.record(backend, "failed-mid-stream");
                finish(false);
                throw e;
            }
        }

        private void finish(boolean ok) {
            if (released) {
                return;
            }
            released = true;
            health.release(tenant);
            if (ok) {
                health.success();
            } else {
                health.failure();
            }
        }

        @Override
        public void close() {
            if (closed) {
                return;
            }
            closed = true;
            delegate.close();
            if (!released) {
                released = true; // cancelled by the client: says nothing about the backend's health
                health.release(tenant);
            }
            generation.release();
        }
    }
}
