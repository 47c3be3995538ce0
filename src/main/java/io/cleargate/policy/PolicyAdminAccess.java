package io.cleargate.policy;

import io.cleargate.identity.Principal;
import java.util.Optional;

/**
 * The seam between policy administration and identity: who is calling, from the Authorization
 * header. The identity feature's authenticator replaces the stand-in {@link BootstrapAdminAccess}.
 */
public interface PolicyAdminAccess {

    /** The verified caller, or empty when the header carries no valid credential. */
    Optional<Principal> resolve(String authorizationHeader);
}
