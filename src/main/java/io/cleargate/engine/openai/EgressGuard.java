package io.cleargate.engine.openai;

import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.util.Locale;
import java.util.Set;

/**
 * Refuses a backend host that is, or now resolves to, a link-local or cloud-metadata address. The
 * routing pool checks the configured URLs at start-up; this check runs again before every
 * connection, because DNS can point a name that was harmless at start-up at the metadata service
 * later (rebinding). The check and the HTTP client read the same JVM address cache, so what was
 * checked is what is connected to.
 */
final class EgressGuard {

    static final Set<String> METADATA_HOSTS = Set.of("metadata.google.internal", "metadata", "instance-data",
            "metadata.azure.internal");

    private final boolean allowLinkLocal;

    EgressGuard(boolean allowLinkLocal) {
        this.allowLinkLocal = allowLinkLocal;
    }

    /** Why a connection to {@code uri} must not be made now, or null when it may. */
    String refusal(URI uri) {
        if (allowLinkLocal) {
            return null;
        }
        String host = uri.getHost() == null ? "" : uri.getHost().toLowerCase(Locale.ROOT);
        if (METADATA_HOSTS.contains(host)) {
            return host + " is a cloud metadata host";
        }
        try {
            for (InetAddress address : InetAddress.getAllByName(host.replace("[", "").replace("]", ""))) {
                if (address.isLinkLocalAddress() || address.getHostAddress().toLowerCase(Locale.ROOT).startsWith("fd00:ec2:")) {
                    return host + " resolves to the link-local/metadata address " + address.getHostAddress();
                }
            }
        } catch (UnknownHostException e) {
            return null; // the connection attempt itself fails and reports it
        }
        return null;
    }
}
