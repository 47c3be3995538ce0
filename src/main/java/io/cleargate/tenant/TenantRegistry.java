package io.cleargate.tenant;

import io.agroal.api.AgroalDataSource;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The tenants table, read through a short cache so the resolve-tenant stage does not query the
 * database on every request. A tenant switched off takes effect within {@link #CACHE_MILLIS}.
 * All SQL is parameterised.
 */
@ApplicationScoped
public class TenantRegistry {

    static final long CACHE_MILLIS = 5_000;

    private record Cached(Optional<Tenant> tenant, long loadedAt) {}

    private final AgroalDataSource dataSource;
    private final Map<String, Cached> cache = new ConcurrentHashMap<>();

    @Inject
    public TenantRegistry(AgroalDataSource dataSource) {
        this.dataSource = dataSource;
    }

    /** The tenant with this id, if it exists (active or not). Throws {@link TenantLookupException} when the database fails. */
    public Optional<Tenant> find(String id) {
        if (!Tenant.isValidId(id)) {
            return Optional.empty();
        }
        long now = System.currentTimeMillis();
        Cached cached = cache.get(id);
        if (cached != null && now - cached.loadedAt() < CACHE_MILLIS) {
            return cached.tenant();
        }
        Optional<Tenant> loaded = load(id);
        cache.put(id, new Cached(loaded, now));
        return loaded;
    }

    public List<Tenant> list() {
        String sql = "SELECT id, display_name, jurisdiction, active FROM tenants ORDER BY id";
        try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(sql);
                ResultSet rs = ps.executeQuery()) {
            List<Tenant> result = new ArrayList<>();
            while (rs.next()) {
                result.add(read(rs));
            }
            return result;
        } catch (SQLException e) {
            throw new TenantLookupException(e);
        }
    }

    /** Inserts the tenant unless one with its id exists; returns true when inserted. */
    public boolean createIfAbsent(Tenant tenant) {
        String sql = "INSERT INTO tenants (id, display_name, jurisdiction, active, created_at) "
                + "SELECT ?, ?, ?, ?, ? WHERE NOT EXISTS (SELECT 1 FROM tenants WHERE id = ?)";
        try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, tenant.id());
            ps.setString(2, tenant.displayName());
            ps.setString(3, tenant.jurisdiction());
            ps.setBoolean(4, tenant.active());
            ps.setObject(5, OffsetDateTime.now(ZoneOffset.UTC));
            ps.setString(6, tenant.id());
            boolean inserted = ps.executeUpdate() == 1;
            cache.remove(tenant.id());
            return inserted;
        } catch (SQLException e) {
            throw new TenantLookupException(e);
        }
    }

    /** Creates the tenant, or brings an existing row to these values. */
    public void put(Tenant tenant) {
        String update = "UPDATE tenants SET display_name = ?, jurisdiction = ?, active = ? WHERE id = ?";
        boolean updated;
        try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(update)) {
            ps.setString(1, tenant.displayName());
            ps.setString(2, tenant.jurisdiction());
            ps.setBoolean(3, tenant.active());
            ps.setString(4, tenant.id());
            updated = ps.executeUpdate() == 1;
            cache.remove(tenant.id());
        } catch (SQLException e) {
            throw new TenantLookupException(e);
        }
        if (!updated) {
            createIfAbsent(tenant); // on its own connection, after the first is back in the pool
        }
    }

    /** Switches a tenant on or off; returns false when there is no such tenant. */
    public boolean setActive(String id, boolean active) {
        try (Connection c = dataSource.getConnection();
                PreparedStatement ps = c.prepareStatement("UPDATE tenants SET active = ? WHERE id = ?")) {
            ps.setBoolean(1, active);
            ps.setString(2, id);
            boolean updated = ps.executeUpdate() == 1;
            cache.remove(id);
            return updated;
        } catch (SQLException e) {
            throw new TenantLookupException(e);
        }
    }

    private Optional<Tenant> load(String id) {
        String sql = "SELECT id, display_name, jurisdiction, active FROM tenants WHERE id = ?";
        try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(read(rs)) : Optional.empty();
            }
        } catch (SQLException e) {
            throw new TenantLookupException(e);
        }
    }

    private static Tenant read(ResultSet rs) throws SQLException {
        return new Tenant(rs.getString("id"), rs.getString("display_name"), rs.getString("jurisdiction"),
                rs.getBoolean("active"));
    }

    /** The tenant table could not be read: callers fail closed. */
    public static final class TenantLookupException extends RuntimeException {
        TenantLookupException(SQLException cause) {
            super("tenant table unavailable: " + cause.getMessage(), cause);
        }
    }
}
