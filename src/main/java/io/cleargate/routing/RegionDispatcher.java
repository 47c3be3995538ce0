package io.cleargate.routing;

import io.cleargate.domain.EngineEvent;
import io.cleargate.domain.EngineException;
import io.cleargate.domain.EngineStream;
import io.cleargate.domain.Route;
import io.cleargate.engine.Backend;
import io.cleargate.engine.Engine;
import io.cleargate.identity.Principal;
import io.cleargate.engine.EngineRegistry;
import io.cleargate.pipeline.Dispatcher;
import io.cleargate.pipeline.EngineErrors;
import io.cleargate.pipeline.Exchange;
import io.cleargate.pipeline.GatewayError;
import io.cleargate.pipeline.GatewayException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;

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
        var attempt = new Attempt(exchange);
        for (Backend backend = attempt.admit(); backend != null; backend = attempt.admit()) {
            try {
                EngineStream stream = attempt.engine(backend).open(exchange.engineRequest(), exchange.incoming().stream());
                EngineEvent first = stream.next(); // nothing has gone to the client yet: still safe to fail over
                return attempt.opened(backend, stream, first);
            } catch (EngineException e) {
                attempt.failed(backend, e);
            } catch (RuntimeException e) {
                attempt.abandon(backend);
                throw e;
            }
        }
        throw attempt.exhausted();
    }

    /**
     * The same walk through the plan as {@link #open}, each attempt's answer awaited on the event
     * loop instead of on a blocked thread; null when a candidate's engine only opens blocking.
     */
    @Override
    public CompletionStage<EngineStream> openWithoutBlocking(Exchange exchange) {
        if (!opensWithoutBlocking(exchange)) {
            return null;
        }
        var result = new CompletableFuture<EngineStream>();
        openNext(new Attempt(exchange), result);
        return result;
    }

    @Override
    public boolean opensWithoutBlocking(Exchange exchange) {
        RoutePlan plan = exchange.require(RoutePlan.KEY);
        for (Backend candidate : plan.candidates()) {
            if (!plan.registry().engine(candidate.id())
                    .opensWithoutBlocking(exchange.engineRequest(), exchange.incoming().stream())) {
                return false;
            }
        }
        return true;
    }

    private void openNext(Attempt attempt, CompletableFuture<EngineStream> result) {
        Backend backend = attempt.admit();
        if (backend == null) {
            result.completeExceptionally(attempt.exhausted());
            return;
        }
        CompletionStage<EngineStream> opening;
        try {
            opening = attempt.engine(backend).openWithoutBlocking(attempt.exchange.engineRequest(),
                    attempt.exchange.incoming().stream());
        } catch (RuntimeException e) {
            attempt.abandon(backend);
            result.completeExceptionally(e);
            return;
        }
        opening.thenCompose(RegionDispatcher::firstEvent).whenComplete((opened, failure) -> {
            try {
                if (failure != null) {
                    throw failure instanceof CompletionException wrapped && wrapped.getCause() != null
                            ? wrapped.getCause() : failure;
                }
                result.complete(attempt.opened(backend, opened.stream(), opened.first()));
            } catch (EngineException e) {
                try {
                    attempt.failed(backend, e);
                } catch (GatewayException refused) {
                    result.completeExceptionally(refused);
                    return;
                }
                openNext(attempt, result);
            } catch (Throwable e) {
                attempt.abandon(backend);
                result.completeExceptionally(e);
            }
        });
    }

    /** An opened stream and its first event, which decides whether the backend answered. */
    private record Opened(EngineStream stream, EngineEvent first) {}

    /**
     * The stream's first event, awaited on the event loop: a one-shot answer has it already; a
     * streamed one is polled until it comes (nothing has gone to the client yet, so a failure
     * before it still fails over).
     */
    private static CompletionStage<Opened> firstEvent(EngineStream stream) {
        var first = new CompletableFuture<Opened>();
        if (!stream.polls()) {
            try {
                first.complete(new Opened(stream, stream.next()));
            } catch (EngineException e) {
                first.completeExceptionally(e);
            }
            return first;
        }
        pollFirst(stream, first);
        return first;
    }

    private static void pollFirst(EngineStream stream, CompletableFuture<Opened> first) {
        try {
            EngineEvent event = stream.poll(() -> pollFirst(stream, first));
            if (event != null) {
                first.complete(new Opened(stream, event));
            }
        } catch (EngineException e) {
            first.completeExceptionally(e);
        }
    }

    /** One exchange's walk through its plan: the backends tried, the last failure, the slots held. */
    private final class Attempt {
        private final Exchange exchange;
        private final String tenant;
        private final EngineRegistry.Snapshot backends;
        private final RoutePlan plan;
        private final Iterator<Backend> order;
        private final List<String> tried = new ArrayList<>();
        private GatewayError lastError;
        private int shareUsed;

        Attempt(Exchange exchange) {
            // The routing stage cannot be switched off (Pipeline refuses), so a missing plan is a bug.
            this.exchange = exchange;
            this.plan = exchange.require(RoutePlan.KEY);
            this.tenant = exchange.get(Principal.KEY).map(Principal::tenant).orElse(null);
            this.backends = plan.registry();
            this.order = pool.order(plan.candidates()).iterator();
        }

        /** The next backend that admits the tenant, its slot taken and its generation leased; null when none is left. */
        Backend admit() {
            while (order.hasNext() && tried.size() < maxAttempts) {
                Backend backend = order.next();
                BackendHealth.Admission admission = pool.health(backend.id()).tryAcquire(tenant);
                if (admission != BackendHealth.Admission.ADMITTED) {
                    shareUsed += admission == BackendHealth.Admission.TENANT_SHARE_USED ? 1 : 0;
                    continue;
                }
                tried.add(backend.id());
                backends.lease(); // the engines of this generation stay open until the stream ends
                return backend;
            }
            return null;
        }

        Engine engine(Backend backend) {
            return backends.engine(backend.id());
        }

        EngineStream opened(Backend backend, EngineStream stream, EngineEvent first) {
            record(exchange, backend, tried);
            pool.record(backend, "opened");
            return new TrackedStream(stream, first, pool.health(backend.id()), tenant, backend, pool, backends);
        }

        /** A failure before the first event; throws when another backend would only say the same. */
        void failed(Backend backend, EngineException e) {
            BackendHealth health = pool.health(backend.id());
            backends.release();
            health.release(tenant);
            pool.record(backend, "failed");
            if (e.kind() == EngineException.Kind.INVALID_REQUEST) {
                throw new GatewayException(EngineErrors.toGatewayError(e));
            }
            health.failure();
            lastError = EngineErrors.toGatewayError(e);
        }

        void abandon(Backend backend) {
            backends.release();
            pool.health(backend.id()).release(tenant);
        }

        GatewayException exhausted() {
            if (tried.isEmpty() && shareUsed > 0) {
                return new GatewayException(tenantShareUsed());
            }
            GatewayError error = plan.noEligibleBackend();
            if (lastError != null) {
                error = error.withDetail("last_error", lastError.message()).withDetail("last_error_code", lastError.code());
            }
            return new GatewayException(error.withDetail("tried_backends", List.copyOf(tried)));
        }
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

    /**
     * The answer again from another backend of the plan: the one that answered is taken out of the
     * plan for good, so a retry never lands where it came from and never leaves the plan's regions.
     */
    @Override
    public Optional<EngineStream> openAnother(Exchange exchange) {
        RoutePlan plan = exchange.require(RoutePlan.KEY);
        String answered = exchange.get(Exchange.ROUTE).map(Route::backendId).orElse(null);
        RoutePlan rest = plan.without(answered);
        if (rest.candidates().isEmpty()) {
            return Optional.empty();
        }
        exchange.put(RoutePlan.KEY, rest);
        try {
            return Optional.of(open(exchange));
        } catch (GatewayException e) {
            return Optional.empty();
        }
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
        public boolean polls() {
            return delegate.polls();
        }

        @Override
        public EngineEvent poll(Runnable ready) throws EngineException {
            if (pending != null) {
                EngineEvent event = pending;
                pending = null;
                return event;
            }
            try {
                EngineEvent event = delegate.poll(ready);
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
