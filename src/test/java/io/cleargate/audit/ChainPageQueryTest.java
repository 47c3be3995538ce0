package io.cleargate.audit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The signer's page of links on H2, with the audit schema as migrated: a page reads its own rows
 * in the (chain_id, seq) index's order and stops, rather than reading and sorting every row up to
 * the head for each page.
 */
class ChainPageQueryTest {

    private static final int ROWS_PER_CHAIN = 5_000;
    private Connection db;

    @BeforeEach
    void schemaWithTwoInterleavedChains() throws Exception {
        db = DriverManager.getConnection("jdbc:h2:mem:chain-page-" + System.nanoTime());
        try (InputStream in = getClass().getResourceAsStream("/db/migration/V100__audit.sql");
                Statement st = db.createStatement()) {
            String script = new String(in.readAllBytes(), StandardCharsets.UTF_8).replaceAll("(?m)^--.*$", "");
            for (String sql : script.split(";")) {
                if (!sql.isBlank()) {
                    st.execute(sql);
                }
            }
            st.execute("INSERT INTO audit_entry (id, chain_id, seq, kind, recorded_at, decision, state, tags, body,"
                    + " body_sha256, prev_hash, entry_hash, content_mode)"
                    + " SELECT X, CASE WHEN MOD(X, 2) = 0 THEN 'a' ELSE 'b' END, (X + 1) / 2, 'request', CURRENT_TIMESTAMP,"
                    + " 'allow', 'done', '[]', REPEAT('x', 300), 'h', 'p', 'e', 'none' FROM SYSTEM_RANGE(1, " + 2 * ROWS_PER_CHAIN + ")");
        }
    }

    @AfterEach
    void close() throws Exception {
        db.close();
    }

    @Test
    void aPageOfLinksReadsOnlyItsOwnRowsInSeqOrder() throws Exception {
        String page = jdbc(CheckpointSigner.LINKS_PAGE) + " FETCH FIRST " + CheckpointSigner.PAGE + " ROWS ONLY";
        try (PreparedStatement q = db.prepareStatement(page)) {
            q.setString(1, "a");
            q.setLong(2, 1_001);
            q.setLong(3, ROWS_PER_CHAIN);
            try (ResultSet r = q.executeQuery()) {
                long expected = 1_001;
                while (r.next()) {
                    assertEquals(expected++, r.getLong(1));
                }
                assertEquals(1_001 + CheckpointSigner.PAGE, expected, "one whole page, from the first seq asked");
            }
        }
        try (PreparedStatement explain = db.prepareStatement("EXPLAIN ANALYZE " + page)) {
            explain.setString(1, "a");
            explain.setLong(2, 1_001);
            explain.setLong(3, ROWS_PER_CHAIN);
            try (ResultSet r = explain.executeQuery()) {
                r.next();
                String plan = r.getString(1);
                Matcher scanned = Pattern.compile("scanCount: (\\d+)").matcher(plan);
                assertTrue(scanned.find(), plan);
                assertTrue(Long.parseLong(scanned.group(1)) <= CheckpointSigner.PAGE + 1,
                        "rows read for a page of " + CheckpointSigner.PAGE + " out of " + (ROWS_PER_CHAIN - 1_000) + ":\n" + plan);
            }
        }
    }

    /** The JPA positional parameters (?1) as plain JDBC ones. */
    private static String jdbc(String sql) {
        return sql.replaceAll("\\?\\d", "?");
    }
}
