package io.cleargate.policy;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.util.DefaultPrettyPrinter;
import com.fasterxml.jackson.core.util.Separators;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.cleargate.tenant.Tenant;
import io.cleargate.tenant.TenantRegistry;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.jboss.logging.Logger;

/**
 * The tenants the gateway serves are the tenants of the policy data ({@code data.cleargate.tenants}):
 * one list, changed only through policy administration. The tenant table, which the resolve-tenant
 * guard and API keys read, follows it: at start and after every activation or rollback each tenant
 * of the data is written there (jurisdiction, description, active unless {@code "suspended": true}).
 * At start every table row the data does not name is switched off (it may have been removed while
 * the gateway was down); after an activation, the tenants that change removed are. A row nobody
 * declared in this process's lifetime (a test's scratch tenant) is left alone by activations.
 *
 * <p>Reads both layouts of the tenant data: one {@code cleargate/tenants/data.json} object of
 * tenant id to settings, or one {@code cleargate/tenants/<id>/data.json} of settings per tenant.
 */
@ApplicationScoped
public class PolicyTenants implements DraftReview {

    private static final Logger LOG = Logger.getLogger(PolicyTenants.class);
    static final String PREFIX = "cleargate/tenants/";
    static final String SHARED_FILE = PREFIX + "data.json";

    private final TenantRegistry registry;
    private final ObjectMapper json;
    private final PolicyTree tree;

    @Inject
    public PolicyTenants(TenantRegistry registry, ObjectMapper json, PolicyConfig config) {
        this.registry = registry;
        this.json = json;
        this.tree = new PolicyTree(Path.of(config.admin().directory()));
    }

    /** The tenants of the data as last synchronised; null before the first synchronisation. */
    private java.util.Set<String> lastDeclared;

    void onStart(@Observes StartupEvent event) {
        sync(tree.snapshot());
    }

    /** The settings only a platform administrator may change: a tenant cannot move or unsuspend itself. */
    static final List<String> PLATFORM_SETTINGS = List.of("jurisdiction", "suspended");

    /** Tenant id to its settings, as the policy data of {@code files} declares them. */
    Map<String, Map<String, Object>> read(Map<String, String> files) {
        return read(json, files);
    }

    @SuppressWarnings("unchecked")
    static Map<String, Map<String, Object>> read(ObjectMapper json, Map<String, String> files) {
        Map<String, Map<String, Object>> tenants = new TreeMap<>();
        files.forEach((path, content) -> {
            if (!path.startsWith(PREFIX) || !path.endsWith("data.json")) {
                return;
            }
            String rest = path.substring(PREFIX.length());
            try {
                Map<String, Object> doc = json.readValue(content, Map.class);
                if (rest.equals("data.json")) {
                    doc.forEach((id, settings) -> {
                        if (settings instanceof Map<?, ?> m) {
                            tenants.put(id, (Map<String, Object>) m);
                        }
                    });
                } else if (rest.indexOf('/') == rest.lastIndexOf('/')) {
                    tenants.put(rest.substring(0, rest.indexOf('/')), doc);
                }
            } catch (JsonProcessingException e) {
                // validation reports it; a file that does not parse declares no tenant
            }
        });
        return tenants;
    }

    /**
     * Writes the tenants of {@code files} into the tenant table and switches off the ones it lacks:
     * every undeclared row the first time, afterwards those the previous data declared.
     */
    synchronized void sync(Map<String, String> files) {
        Map<String, Map<String, Object>> declared = read(files);
        if (files.keySet().stream().noneMatch(p -> p.startsWith(PREFIX))) {
            // No tenant data here at all (a gateway without a policies directory): nothing to follow,
            // and switching every tenant off would be the wrong reading of a missing file.
            LOG.warnf("no tenant data under %s in the policies directory; the tenant table is left as it is", PREFIX);
            return;
        }
        try {
            for (var e : declared.entrySet()) {
                if (Tenant.isValidId(e.getKey())) {
                    registry.put(tenant(e.getKey(), e.getValue()));
                }
            }
            for (Tenant t : registry.list()) {
                boolean removed = lastDeclared == null || lastDeclared.contains(t.id());
                if (t.active() && !declared.containsKey(t.id()) && removed) {
                    registry.setActive(t.id(), false);
                    LOG.infof("tenant %s is not in the policy data: switched off", t.id());
                }
            }
            lastDeclared = java.util.Set.copyOf(declared.keySet());
        } catch (TenantRegistry.TenantLookupException e) {
            LOG.errorf("tenant table could not follow the policy data: %s", e.getMessage());
        }
    }

    static Tenant tenant(String id, Map<String, Object> settings) {
        String jurisdiction = settings.get("jurisdiction") instanceof String j && !j.isBlank() && j.length() <= 16 ? j
                : "UNSPECIFIED";
        String description = settings.get("description") instanceof String d && !d.isBlank() ? d : id;
        boolean suspended = Boolean.TRUE.equals(settings.get("suspended"));
        return new Tenant(id, description.length() > 200 ? description.substring(0, 200) : description, jurisdiction,
                !suspended);
    }

    /**
     * What a tenant-scoped draft may not do to the tenant list: add or remove a tenant, or change a
     * {@link #PLATFORM_SETTINGS platform setting}. Null when the draft does none of it.
     */
    static String platformChange(ObjectMapper json, Map<String, String> before, Map<String, String> after) {
        Map<String, Map<String, Object>> was = read(json, before);
        Map<String, Map<String, Object>> will = read(json, after);
        for (String id : new java.util.TreeSet<>(java.util.Set.copyOf(concat(was.keySet(), will.keySet())))) {
            if (!will.containsKey(id) && after.containsKey(PREFIX + id + "/data.json")) {
                continue; // the file is still there but does not parse: validation names the error
            }
            if (was.containsKey(id) != will.containsKey(id)) {
                return "adding or removing tenant " + id + " is a platform administrator's change (/admin/tenants)";
            }
            for (String setting : PLATFORM_SETTINGS) {
                if (!java.util.Objects.equals(was.get(id).get(setting), will.get(id).get(setting))) {
                    return "tenant " + id + ": '" + setting + "' is set by a platform administrator only";
                }
            }
        }
        return null;
    }

    private static List<String> concat(java.util.Collection<String> a, java.util.Collection<String> b) {
        List<String> all = new ArrayList<>(a);
        all.addAll(b);
        return all;
    }

    /**
     * The draft files that set one tenant's settings ({@code null} settings removes the tenant), in
     * whichever layout the tree uses.
     */
    @SuppressWarnings("unchecked")
    Map<String, String> withTenant(Map<String, String> files, String id, Map<String, Object> settings) {
        try {
            if (files.containsKey(SHARED_FILE)) {
                Map<String, Object> all = json.readValue(files.get(SHARED_FILE), LinkedHashMap.class);
                if (settings == null) {
                    all.remove(id);
                } else {
                    all.put(id, settings);
                }
                return Map.of(SHARED_FILE, write(all));
            }
            Map<String, String> out = new LinkedHashMap<>();
            out.put(PREFIX + id + "/data.json", settings == null ? null : write(settings));
            return out;
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("the tenant data does not parse: " + e.getOriginalMessage());
        }
    }

    private String write(Object value) throws JsonProcessingException {
        var printer = new DefaultPrettyPrinter().withSeparators(Separators.createDefaultInstance()
                .withObjectFieldValueSpacing(Separators.Spacing.AFTER));
        return json.writer(printer).writeValueAsString(value) + "\n";
    }

    @Override
    public List<OpaCli.CompileError> problems(Map<String, String> files, Map<String, PolicyDecision> decisions) {
        List<OpaCli.CompileError> problems = new ArrayList<>();
        read(files).forEach((id, settings) -> {
            // The platform's own tenant (the probe suite's) is data like any tenant's but no table row.
            if (!Tenant.isValidId(id) && !Tenant.PLATFORM_ID.equals(id)) {
                problems.add(new OpaCli.CompileError(null, 0, 0, "invalid_tenant",
                        "tenant id '" + id + "' must match " + Tenant.ID.pattern()));
            }
            if (!(settings.get("jurisdiction") instanceof String j) || j.isBlank() || j.length() > 16) {
                problems.add(new OpaCli.CompileError(null, 0, 0, "invalid_tenant",
                        "tenant " + id + ": jurisdiction must be a non-empty string of at most 16 characters"));
            }
            if (settings.containsKey("suspended") && !(settings.get("suspended") instanceof Boolean)) {
                problems.add(new OpaCli.CompileError(null, 0, 0, "invalid_tenant",
                        "tenant " + id + ": suspended must be true or false"));
            }
        });
        return problems;
    }

    @Override
    public Fixtures test(Map<String, String> files, Map<String, PolicyDecision> decisions) {
        return new Fixtures(0, List.of());
    }

    @Override
    public Map<String, Object> whatIf(Map<String, String> before, PolicyDecision beforeDecision, Map<String, String> after,
            PolicyDecision afterDecision) {
        return Map.of();
    }

    @Override
    public void activated(Map<String, String> files) {
        sync(files);
    }
}
