package io.cleargate.policy;

import io.cleargate.tenant.Tenant;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.net.NetClientOptions;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisOptions;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The tenants' allowances in a Redis (or Valkey) server that every replica shares. Each admission
 * and settlement is one Lua script ({@code rate-limits/token-buckets.lua}) that Redis runs
 * atomically on the server's clock, so two replicas can never both admit past a limit. Keys are
 * built only from the validated tenant id ({@link Tenant#ID}), never from client input: at most
 * three per tenant (two buckets that expire once full again, and the budget holds of requests in
 * flight, {@code rate-limits/budget-holds.lua}, which expire with the last hold).
 */
public final class RedisLimitCounters implements LimitCounters, AutoCloseable {

    private static final String SCRIPT = readScript("token-buckets.lua");
    private static final String SHA = sha1(SCRIPT);
    private static final String HOLDS_SCRIPT = readScript("budget-holds.lua");
    private static final String HOLDS_SHA = sha1(HOLDS_SCRIPT);

    private final Redis client;
    private final String prefix;
    private final long timeoutMillis;

    /**
     * @param url      {@code redis://host:port[/db]}
     * @param password the store's password, or null
     * @param prefix   the deployment's key prefix
     * @param timeout  bound on one call, connect included
     */
    public RedisLimitCounters(Vertx vertx, String url, String password, String prefix, Duration timeout) {
        int millis = (int) Math.max(1, timeout.toMillis());
        var options = new RedisOptions()
                .setConnectionString(url)
                .setMaxPoolSize(16)
                .setMaxPoolWaiting(512)
                .setMaxWaitingHandlers(4096)
                .setNetClientOptions(new NetClientOptions().setConnectTimeout(millis).setTcpNoDelay(true)
                        .setTcpKeepAlive(true));
        if (password != null && !password.isBlank()) {
            options.setPassword(password);
        }
        if (prefix == null || !prefix.matches("[A-Za-z0-9:_.-]{1,64}")) {
            throw new IllegalArgumentException("cleargate.rate-limits.key-prefix must be 1-64 of A-Z a-z 0-9 : _ . -");
        }
        this.client = Redis.createClient(vertx, options);
        this.prefix = prefix;
        this.timeoutMillis = millis;
    }

    @Override
    public Admission acquire(String tenant, Integer requestsPerMinute, Integer tokensPerMinute, long tokens) {
        if (requestsPerMinute == null && tokensPerMinute == null) {
            return Admission.OK; // nothing to count: the store is not asked
        }
        Response r = await(run(tenant, "acquire", requestsPerMinute, tokensPerMinute, tokens));
        if (r.get(0).toInteger() == 1) {
            return Admission.OK;
        }
        return Admission.refused(TimeUnit.MILLISECONDS.toNanos(r.get(1).toLong()),
                TimeUnit.MILLISECONDS.toNanos(r.get(2).toLong()));
    }

    /**
     * Blocks for the answer on a request's virtual thread; on a Vert.x event loop (which must never
     * block, and delivers the answer itself) it sends and returns.
     */
    @Override
    public void settle(String tenant, Integer tokensPerMinute, long tokens) {
        if (tokensPerMinute == null || tokens == 0) {
            return;
        }
        Future<Response> sent = run(tenant, "settle", null, tokensPerMinute, tokens);
        if (!Context.isOnEventLoopThread()) {
            await(sent);
        }
    }

    @Override
    public Held hold(String tenant, String subject, String holdId, long tokens, long costNanos, Duration ttl) {
        Response r = await(runHolds(tenant, List.of("hold", holdId, Long.toString(tokens), Long.toString(costNanos),
                Long.toString(Math.max(1, ttl.toMillis())), subject)));
        return new Held(r.get(0).toLong(), r.get(1).toLong(), r.get(2).toLong(), r.get(3).toLong());
    }

    /** Blocks for the answer on a request's virtual thread; on a Vert.x event loop it sends and returns. */
    @Override
    public void release(String tenant, String holdId) {
        Future<Response> sent = runHolds(tenant, List.of("release", holdId));
        if (!Context.isOnEventLoopThread()) {
            await(sent);
        }
    }

    @Override
    public String name() {
        return "redis";
    }

    /** Opens a connection and loads the scripts (SCRIPT LOAD), answering nothing and waiting for nothing. */
    @Override
    public void warmUp() {
        client.send(Request.cmd(Command.SCRIPT).arg("LOAD").arg(SCRIPT));
        client.send(Request.cmd(Command.SCRIPT).arg("LOAD").arg(HOLDS_SCRIPT));
    }

    @Override
    public void close() {
        client.close();
    }

    /** The two keys of a tenant; the tenant is the hash tag, so both live in one Redis Cluster slot. */
    String key(String tenant, String bucket) {
        if (!Tenant.isValidId(tenant)) {
            throw new IllegalArgumentException("not a tenant id");
        }
        return prefix + ":rl:{" + tenant + "}:" + bucket;
    }

    private Future<Response> run(String tenant, String op, Integer rpm, Integer tpm, long tokens) {
        String requests = key(tenant, "requests");
        String tokenKey = key(tenant, "tokens");
        Request byHash = args(Request.cmd(Command.EVALSHA).arg(SHA), requests, tokenKey, op, rpm, tpm, tokens);
        return client.send(byHash).recover(e -> {
            // The server has not seen the script yet (first call, restart, SCRIPT FLUSH): send it whole.
            if (e.getMessage() != null && e.getMessage().startsWith("NOSCRIPT")) {
                return client.send(args(Request.cmd(Command.EVAL).arg(SCRIPT), requests, tokenKey, op, rpm, tpm, tokens));
            }
            return Future.failedFuture(e);
        });
    }

    /** One call of the holds script on the tenant's holds key. */
    private Future<Response> runHolds(String tenant, List<String> argv) {
        String holds = key(tenant, "holds");
        Request byHash = Request.cmd(Command.EVALSHA).arg(HOLDS_SHA).arg(1).arg(holds);
        argv.forEach(byHash::arg);
        return client.send(byHash).recover(e -> {
            if (e.getMessage() != null && e.getMessage().startsWith("NOSCRIPT")) {
                Request whole = Request.cmd(Command.EVAL).arg(HOLDS_SCRIPT).arg(1).arg(holds);
                argv.forEach(whole::arg);
                return client.send(whole);
            }
            return Future.failedFuture(e);
        });
    }

    private static Request args(Request r, String requests, String tokens, String op, Integer rpm, Integer tpm,
            long amount) {
        return r.arg(2).arg(requests).arg(tokens).arg(op).arg(rpm == null ? 0 : rpm).arg(tpm == null ? 0 : tpm)
                .arg(amount);
    }

    private Response await(Future<Response> future) {
        try {
            return future.toCompletionStage().toCompletableFuture().get(timeoutMillis, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new LimitStoreUnavailableException("interrupted while waiting for the limit store", e);
        } catch (TimeoutException e) {
            throw new LimitStoreUnavailableException("the limit store did not answer within " + timeoutMillis + " ms", e);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause() == null ? e : e.getCause();
            throw new LimitStoreUnavailableException("the limit store failed: " + cause.getClass().getSimpleName()
                    + ": " + cause.getMessage(), cause);
        }
    }

    private static String readScript(String name) {
        try (InputStream in = RedisLimitCounters.class.getResourceAsStream("/rate-limits/" + name)) {
            if (in == null) {
                throw new IllegalStateException("rate-limits/" + name + " is missing from the build");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String sha1(String text) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-1").digest(text.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
