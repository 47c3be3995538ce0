package io.cleargate.audit;

import io.cleargate.identity.Principal;
import java.util.Optional;

/**
 * Resolves who is calling the compliance API from the Authorization header. A seam until the
 * identity feature's authenticator is wired in; an empty result is answered with 401.
 */
public interface AuditCaller {
    Optional<Principal> resolve(String authorizationHeader);
}
