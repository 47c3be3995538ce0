package io.cleargate.policy;

import io.cleargate.identity.AdminEvents;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Alternative;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

/** Keeps the admin events policy administration emits, for assertions. Enabled by {@link PolicyAdminProfile}. */
@Alternative
@ApplicationScoped
public class RecordedAdminEvents implements AdminEvents {

    record Event(String tenant, String actor, String action, Map<String, Object> details) {}

    private final List<Event> events = new CopyOnWriteArrayList<>();

    /** A method, not a field: the test holds a client proxy, whose own fields are never set. */
    Event last() {
        return events.getLast();
    }

    List<Event> all() {
        return List.copyOf(events);
    }

    @Override
    public void record(String tenant, String actor, String action, Map<String, Object> details) {
        events.add(new Event(tenant, actor, action, Map.copyOf(details)));
    }
}
