package io.cleargate.identity;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cleargate.identity.apikey.ApiKeyService;
import io.cleargate.pipeline.GatewayException;
import io.cleargate.tenant.Tenant;
import io.cleargate.tenant.TenantGuard;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Console sessions: random ids, idle and absolute expiry, and an end when the key is revoked. */
class ConsoleSessionsTest {

    /** A clock the test moves. */
    static final class Hands extends Clock {
        Instant now = Instant.parse("2026-11-30T10:00:00Z");

        @Override
        public java.time.ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(java.time.ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return now;
        }
    }

    record Timing(Duration idleTimeout, Duration maxLifetime, int maxSessions) implements IdentityConfig.Sessions {}

    private final Hands clock = new Hands();
    private final Set<String> revoked = new HashSet<>();
    private final ApiKeyService keys = new ApiKeyService(null, null) {
        @Override
        public boolean stillValid(String id) {
            return !revoked.contains(id);
        }
    };
    private final TenantGuard tenants = new TenantGuard(null) {
        @Override
        public Tenant requireActive(String tenantId) {
            return null;
        }
    };
    private final ConsoleSessions sessions = new ConsoleSessions(
            new Timing(Duration.ofMinutes(30), Duration.ofHours(8), 3), keys, tenants, clock);
    private final Principal viaKey = new Principal("acme-eu", "api-key:k1", Set.of(Roles.AUDITOR),
            Principal.AuthMethod.API_KEY, "ops-key", null);

    @Test
    void aSessionIdAndItsCsrfTokenAreLongRandomAndDistinct() {
        var a = sessions.open(viaKey);
        var b = sessions.open(viaKey);
        assertNotEquals(a.id(), b.id());
        assertNotEquals(a.id(), a.csrf());
        assertTrue(a.id().length() >= 43, a.id());
        assertFalse(a.toString().contains(a.id()), "the id never reaches logs");
    }

    @Test
    void anIdleSessionEndsAfterTheIdleTimeoutButUseKeepsItAlive() {
        var s = sessions.open(viaKey);
        clock.now = clock.now.plus(Duration.ofMinutes(20));
        assertTrue(sessions.find(s.id()).isPresent());
        clock.now = clock.now.plus(Duration.ofMinutes(20));
        assertTrue(sessions.find(s.id()).isPresent(), "used 20 minutes ago");
        clock.now = clock.now.plus(Duration.ofMinutes(31));
        assertTrue(sessions.find(s.id()).isEmpty());
    }

    @Test
    void aSessionEndsAtItsMaximumLifetimeEvenWhenUsed() {
        var s = sessions.open(viaKey);
        for (int i = 0; i < 17; i++) {
            clock.now = clock.now.plus(Duration.ofMinutes(29));
            sessions.find(s.id());
        }
        assertTrue(sessions.find(s.id()).isEmpty());
    }

    @Test
    void revokingTheKeyASessionWasOpenedWithEndsTheSession() {
        var s = sessions.open(viaKey);
        revoked.add("k1");
        var error = assertThrows(GatewayException.class, () -> sessions.find(s.id())).error();
        assertEquals(401, error.status());
        revoked.clear();
        assertTrue(sessions.find(s.id()).isEmpty(), "closed for good");
    }

    @Test
    void theOldestIdleSessionMakesRoomBeyondTheLimit() {
        var first = sessions.open(viaKey);
        clock.now = clock.now.plusSeconds(1);
        sessions.open(viaKey);
        sessions.open(viaKey);
        sessions.open(viaKey);
        assertTrue(sessions.find(first.id()).isEmpty());
    }

    @Test
    void theCsrfCheckComparesTheWholeToken() {
        var s = sessions.open(viaKey);
        assertTrue(ConsoleSessions.csrfMatches(s, s.csrf()));
        assertFalse(ConsoleSessions.csrfMatches(s, s.csrf().substring(1)));
        assertFalse(ConsoleSessions.csrfMatches(s, null));
    }
}
