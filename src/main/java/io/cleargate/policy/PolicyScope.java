package io.cleargate.policy;

import java.util.List;
import java.util.Map;

/**
 * What one policy administrator may see and change. A tenant's policy-admin owns
 * {@code cleargate/tenants/<tenant>/} (the tenant's settings in {@code data.json} and its own
 * modules, package {@code cleargate.tenants["<tenant>"]...}) and may read the global modules it
 * builds on; a platform administrator owns everything under {@code cleargate/} (the decision, the
 * helpers, every tenant). Nobody edits {@code system/} through the gateway.
 *
 * @param tenant the administrator's tenant, or null for a platform administrator
 */
public record PolicyScope(String tenant) {

    static final String TENANTS = "cleargate/tenants/";

    public static PolicyScope platform() {
        return new PolicyScope(null);
    }

    public static PolicyScope ofTenant(String tenant) {
        return new PolicyScope(java.util.Objects.requireNonNull(tenant, "tenant"));
    }

    public boolean isPlatform() {
        return tenant == null;
    }

    /** The tenant a policy file belongs to, or null for a global file. */
    static String owner(String path) {
        if (path == null || !path.startsWith(TENANTS)) {
            return null;
        }
        int slash = path.indexOf('/', TENANTS.length());
        return slash < 0 ? null : path.substring(TENANTS.length(), slash);
    }

    /** Global files are readable by every policy administrator; a tenant's files only by its own and the platform's. */
    public boolean mayRead(String path) {
        String owner = owner(path);
        return isPlatform() || owner == null || owner.equals(tenant);
    }

    /** Whether a draft of this administrator may create, change or delete {@code path}. */
    public boolean mayEdit(String path) {
        if (path == null || !path.startsWith("cleargate/")) {
            return false;
        }
        return isPlatform() || tenant.equals(owner(path));
    }

    /** The changes this administrator may make, of the given ones (a tenant's rollback touches only its files). */
    Map<String, String> restrict(Map<String, String> changes) {
        Map<String, String> mine = new java.util.TreeMap<>();
        changes.forEach((path, content) -> {
            if (mayEdit(path)) {
                mine.put(path, content);
            }
        });
        return mine;
    }

    /** A history entry is visible when every file it changed is readable and owned or global to this scope. */
    boolean maySee(List<String> files) {
        return isPlatform() || files.stream().allMatch(f -> tenant.equals(owner(f)));
    }

    /**
     * Why a parsed module may not be written by this administrator, or null when it may. A module
     * never declares a system package; a tenant's module declares its tenant's package and reads no
     * data outside {@code data.cleargate.tenants["<tenant>"]}, so one tenant's rules can neither
     * decide for nor read another tenant.
     */
    static String refusal(String path, OpaCli.ModuleFacts module) {
        List<String> pkg = module.packagePath();
        if (!pkg.isEmpty() && "system".equals(pkg.getFirst())) {
            return "'" + path + "' declares a system package";
        }
        String owner = owner(path);
        if (owner == null) {
            return null;
        }
        List<String> own = List.of("cleargate", "tenants", owner);
        if (pkg.size() < own.size() || !pkg.subList(0, own.size()).equals(own)) {
            return "'" + path + "' must declare a package under cleargate.tenants[\"" + owner + "\"]";
        }
        for (List<String> ref : module.dataRefs()) {
            if (ref.size() < own.size() || !ref.subList(0, own.size()).equals(own)) {
                return "'" + path + "' reads data." + String.join(".", ref.stream()
                        .map(s -> OpaCli.ModuleFacts.DYNAMIC.equals(s) ? "[computed]" : s).toList())
                        + ": a tenant's modules may read only data.cleargate.tenants[\"" + owner + "\"]";
            }
        }
        return null;
    }
}
