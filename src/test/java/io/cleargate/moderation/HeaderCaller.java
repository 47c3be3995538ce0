package io.cleargate.moderation;

import io.cleargate.identity.Principal;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Alternative;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Test stand-in for the identity feature (not yet merged): x-test-principal "tenant;subject;role,role".
 * Selected only by {@link ModerationResourceTest}'s profile, so it never shadows the real authenticator.
 */
@Alternative
@Priority(1)
@ApplicationScoped
class HeaderCaller implements ModerationCaller {

    @Override
    public Optional<Principal> authenticate(Map<String, String> headers) {
        String v = headers.get("x-test-principal");
        if (v == null) {
            return Optional.empty();
        }
        String[] p = v.split(";", -1);
        return Optional.of(new Principal(p[0], p[1], Set.of(p[2].split(",")), Principal.AuthMethod.API_KEY));
    }
}
