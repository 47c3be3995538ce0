package io.cleargate.identity.apikey;

import io.agroal.api.AgroalDataSource;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * The api_keys table. Every statement is a prepared statement with bound parameters: no value
 * ever becomes SQL text (other gateways had SQL injection exactly here).
 */
@ApplicationScoped
public class ApiKeyStore {

    /** The columns every query selects, in this order: {@link #read} reads them by position. */
    private static final String COLUMNS =
            "id, prefix, secret_hash, tenant, name, roles, created_by, created_at, expires_at, revoked_at, revoked_by";

    /** A record together with the stored hash, for verification only. */
    public record Stored(ApiKey key, String secretHash) {}

    private final AgroalDataSource dataSource;

    @Inject
    public ApiKeyStore(AgroalDataSource dataSource) {
        this.dataSource = dataSource;
    }

    public void insert(ApiKey key, String secretHash) {
        String sql = "INSERT INTO api_keys (" + COLUMNS + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
        try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, key.id());
            ps.setString(2, key.prefix());
            ps.setString(3, secretHash);
            ps.setString(4, key.tenant());
            ps.setString(5, key.name());
            ps.setString(6, String.join(",", key.roles()));
            ps.setString(7, key.createdBy());
            ps.setObject(8, utc(key.createdAt()));
            ps.setObject(9, utc(key.expiresAt()));
            setInstant(ps, 10, key.revokedAt());
            ps.setString(11, key.revokedBy());
            ps.executeUpdate();
        } catch (SQLException e) {
            throw new ApiKeyStoreException("cannot store an API key", e);
        }
    }

    public Optional<Stored> findByPrefix(String prefix) {
        return queryOne("SELECT " + COLUMNS + " FROM api_keys WHERE prefix = ?", prefix);
    }

    public Optional<ApiKey> findById(String id) {
        return queryOne("SELECT " + COLUMNS + " FROM api_keys WHERE id = ?", id).map(Stored::key);
    }

    public List<ApiKey> listByTenant(String tenant) {
        String sql = "SELECT " + COLUMNS + " FROM api_keys WHERE tenant = ? ORDER BY created_at, id";
        try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, tenant);
            try (ResultSet rs = ps.executeQuery()) {
                List<ApiKey> result = new ArrayList<>();
                while (rs.next()) {
                    result.add(read(rs).key());
                }
                return result;
            }
        } catch (SQLException e) {
            throw new ApiKeyStoreException("cannot list API keys", e);
        }
    }

    /** Marks the key revoked unless it already is; returns true when this call revoked it. */
    public boolean revoke(String id, String tenant, String by, Instant at) {
        String sql = "UPDATE api_keys SET revoked_at = ?, revoked_by = ? WHERE id = ? AND tenant = ? AND revoked_at IS NULL";
        try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setObject(1, utc(at));
            ps.setString(2, by);
            ps.setString(3, id);
            ps.setString(4, tenant);
            return ps.executeUpdate() == 1;
        } catch (SQLException e) {
            throw new ApiKeyStoreException("cannot revoke an API key", e);
        }
    }

    /**
     * Revokes every unrevoked key that {@code createdBy} created under {@code name} (the gateway's own
     * development key); returns how many were revoked.
     */
    public int revokeNamed(String name, String createdBy, String by, Instant at) {
        String sql = "UPDATE api_keys SET revoked_at = ?, revoked_by = ? WHERE name = ? AND created_by = ?"
                + " AND revoked_at IS NULL";
        try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setObject(1, utc(at));
            ps.setString(2, by);
            ps.setString(3, name);
            ps.setString(4, createdBy);
            return ps.executeUpdate();
        } catch (SQLException e) {
            throw new ApiKeyStoreException("cannot revoke API keys", e);
        }
    }

    /**
     * Moves a key's expiry and lifts a revocation made by {@code revokedBy} (only that one: a key
     * an administrator revoked stays revoked); returns true when the key was changed.
     */
    public boolean renew(String id, Instant expiresAt, String revokedBy) {
        String sql = "UPDATE api_keys SET expires_at = ?, revoked_at = NULL, revoked_by = NULL WHERE id = ?"
                + " AND (revoked_at IS NULL OR revoked_by = ?)";
        try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setObject(1, utc(expiresAt));
            ps.setString(2, id);
            ps.setString(3, revokedBy);
            return ps.executeUpdate() == 1;
        } catch (SQLException e) {
            throw new ApiKeyStoreException("cannot renew an API key", e);
        }
    }

    private Optional<Stored> queryOne(String sql, String parameter) {
        try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, parameter);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(read(rs)) : Optional.empty();
            }
        } catch (SQLException e) {
            throw new ApiKeyStoreException("cannot read API keys", e);
        }
    }

    /**
     * A row of {@link #COLUMNS}, read by position: every request's key lookup reads one, and H2
     * resolves a column label through a case-insensitive search of the result's columns each time.
     */
    private static Stored read(ResultSet rs) throws SQLException {
        Set<String> roles = new LinkedHashSet<>(Arrays.asList(rs.getString(6).split(",")));
        roles.remove("");
        ApiKey key = new ApiKey(rs.getString(1), rs.getString(2), rs.getString(4), rs.getString(5), roles,
                rs.getString(7), instant(rs, 8), instant(rs, 9), instant(rs, 10), rs.getString(11));
        return new Stored(key, rs.getString(3));
    }

    private static Instant instant(ResultSet rs, int column) throws SQLException {
        OffsetDateTime value = rs.getObject(column, OffsetDateTime.class);
        return value == null ? null : value.toInstant();
    }

    private static void setInstant(PreparedStatement ps, int index, Instant instant) throws SQLException {
        if (instant == null) {
            ps.setNull(index, Types.TIMESTAMP_WITH_TIMEZONE);
        } else {
            ps.setObject(index, utc(instant));
        }
    }

    private static OffsetDateTime utc(Instant instant) {
        return instant == null ? null : instant.atOffset(ZoneOffset.UTC);
    }

    /** The key table could not be used: callers fail closed. */
    public static final class ApiKeyStoreException extends RuntimeException {
        ApiKeyStoreException(String message, SQLException cause) {
            super(message + ": " + cause.getMessage(), cause);
        }
    }
}
