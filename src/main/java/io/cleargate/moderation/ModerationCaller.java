package io.cleargate.moderation;

import io.cleargate.identity.Principal;
import java.util.Map;
import java.util.Optional;

/**
 * Seam to the identity feature: who is calling the moderation endpoints. The lead wires it to
 * io.cleargate.identity.Authenticator; until then the default bean authenticates nobody, so the
 * endpoints answer 401 rather than trusting a caller's own claims.
 */
public interface ModerationCaller {

    /** The caller proven by the request's credential (headers with lower-case names), or empty. */
    Optional<Principal> authenticate(Map<String, String> headers);
}
