package io.cleargate.audit;

import io.quarkus.arc.DefaultBean;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.Map;

/** Stand-in until the audit feature records admin events; replaced by any other AdminEvents bean. */
@ApplicationScoped
@DefaultBean
public class NoAdminEvents implements AdminEvents {

    @Override
    public void record(String tenant, String actor, String action, Map<String, Object> details) {
        // Deliberately empty: the audit feature's bean takes over.
    }
}
