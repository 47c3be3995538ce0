package io.cleargate.policy;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.time.Duration;
import java.util.Optional;

/**
 * How the gateway reaches Open Policy Agent and administers its policies ({@code cleargate.policy.*}).
 * Tokens come from the environment or from files written per run by {@code bin/cleargate up}; they
 * never live in application.properties.
 */
@ConfigMapping(prefix = "cleargate.policy")
public interface PolicyConfig {

    /** OPA's base URL; OPA listens on loopback only. */
    @WithDefault("http://127.0.0.1:8181")
    String url();

    /** Bearer token the policy stage presents to OPA (only it may query the decision). */
    Optional<String> token();

    /** File holding that token, read at start when {@code token} is not set. */
    Optional<String> tokenFile();

    /**
     * Bound on one decision call, connect included: an answer not whole within it refuses the
     * request (503); a connection still opening, or a silent OPA after the question went out, is cut off at it.
     */
    @WithDefault("500ms")
    Duration timeout();

    /** Data API path of the decision document. */
    @WithDefault("cleargate/decision")
    String decisionPath();

    /**
     * How long an identical decision (same full input) may be reused. Zero turns the cache off.
     * Entries are dropped at once when this gateway activates or rolls back a policy; another
     * replica's activation becomes visible within this time (plus {@link #askAhead}) at most. Requests that miss together
     * with the same input ask OPA once. No cached decision is served once OPA has failed to
     * answer: a failure drops them all, so while OPA is down every request is refused (503).
     */
    @WithDefault("1s")
    Duration cacheTtl();

    /**
     * How long before a second begins a request may ask, on the side, the question the same input
     * will put in that second (the input carries the time in whole seconds, so otherwise the first
     * request of every second waits for OPA). A decision asked ahead is served during its second only:
     * up to the cache's TTL plus this after it was asked. Zero never asks ahead; under a second.
     */
    @WithDefault("200ms")
    Duration askAhead();

    /** Most cached decisions. */
    @WithDefault("10000")
    int cacheSize();

    /**
     * A signed OPA policy bundle (tarball) to take the policy tree from, as deployed in Kubernetes:
     * the same file the OPA sidecar loads and verifies. When set, the gateway unpacks its policy files
     * into {@code admin.directory} at start and whenever the file changes, and the tenant table and
     * the moderation profiles follow it.
     */
    Optional<String> bundle();

    /**
     * The PEM public key (only the public half: a private key is refused) that must verify the
     * bundle's signature before the gateway takes anything from it, as the OPA sidecar verifies it.
     * Required whenever {@code bundle} is set: a bundle that does not verify is never unpacked (at
     * start the gateway does not start; later the last verified tree stays in force).
     */
    Optional<String> bundleVerificationKey();

    /** The JWS algorithm of the bundle signature (RS256/384/512, ES256/384/512); the signature cannot choose another. */
    @WithDefault("RS256")
    String bundleVerificationAlgorithm();

    /** How often the bundle file is checked for a change. */
    @WithDefault("10s")
    Duration bundleReloadInterval();

    /** Policy administration (the /admin/policies API). */
    Admin admin();

    interface Admin {
        /** Bearer token for OPA's policy and data write API (policy administration only). */
        Optional<String> opaToken();

        /** File holding that token, read when {@code opa-token} is not set. */
        Optional<String> opaTokenFile();

        /** The policies/ directory: the source of truth that activation writes. */
        @WithDefault("policies")
        String directory();

        /** The opa binary used to check, test and what-if drafts. */
        @WithDefault("tools/bin/opa")
        String opaBinary();

        /** Longest run of opa check / test / eval on a draft. */
        @WithDefault("60s")
        Duration commandTimeout();

        /**
         * {@code opa}: an activation is pushed to OPA's REST API and written to the directory at once.
         * {@code gitops}: OPA runs a signed bundle that owns the policy; an activation is checked
         * exactly the same way and recorded as an approval (history, audit event {@code policy.approve}),
         * and becomes live when its files, fetched from {@code /admin/policies/history/{id}/changes},
         * are committed and shipped as the next bundle (k8s/README.md, "Policy changes").
         */
        @WithDefault("opa")
        String mode();

        /** Recent audited requests replayed by a what-if when the caller names no number. */
        @WithDefault("100")
        int whatIfDefaultRequests();
    }
}
