package io.cleargate.console;

import io.cleargate.audit.ComplianceResource;
import io.cleargate.pipeline.GatewayError;
import io.cleargate.pipeline.GatewayException;
import com.fasterxml.jackson.databind.ObjectMapper;
import jakarta.enterprise.context.RequestScoped;
import jakarta.inject.Inject;
import jakarta.ws.rs.core.StreamingOutput;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/**
 * Builds an evidence bundle for an audit search: a zip an auditor can check on a machine that has
 * never seen the gateway, with Python 3 alone.
 *
 * <pre>
 * README.md          what the bundle holds and how to verify it
 * export.jsonl       the chain export (records, then the signed checkpoints), as audit/verify reads it
 * records.jsonl      the records the search matched (id, chain, seq, entry hash, ...), each inside export.jsonl
 * checkpoints.jsonl  the latest signed checkpoints of the chains in scope
 * verify             the offline verifier (audit/verify)
 * export.schema.json the JSON Schema of export lines
 * </pre>
 *
 * The bundle is built in memory and bounded: a search too wide for it is refused with a clear 413.
 */
@RequestScoped
public class Evidence {

    static final int MAX_BYTES = 64 * 1024 * 1024;
    static final int MAX_MATCHES = 20_000;

    @Inject ComplianceResource compliance;
    @Inject ObjectMapper json;

    @SuppressWarnings("unchecked")
    byte[] bundle(Search search) {
        String fromIso = Search.iso(search.from(), "from");
        // Sign the heads first, so the export ends at a checkpoint that covers the newest record.
        compliance.checkpoint();
        byte[] export = drain((StreamingOutput) compliance.export("jsonl", search.tenant(), fromIso, null).getEntity());
        StringBuilder records = new StringBuilder();
        int matched = 0;
        Long after = null;
        do {
            Map<String, Object> page = compliance.search(search.tenant(), fromIso, Search.iso(search.to(), "to"), null,
                    search.model(), search.region(), search.decision(), search.category(), search.moderationAction(),
                    search.outcome(), null, null, after, 500, search.person());
            for (Map<String, Object> item : (List<Map<String, Object>>) page.get("items")) {
                records.append(write(item)).append('\n');
                matched++;
            }
            Object next = page.get("next");
            after = next == null ? null : Long.valueOf(next.toString());
        } while (after != null && matched < MAX_MATCHES);
        if (after != null) {
            throw tooLarge();
        }
        Map<String, Object> checkpoints = compliance.checkpoints(search.tenant(), 100);
        StringBuilder cps = new StringBuilder();
        for (Map<String, Object> c : (List<Map<String, Object>>) checkpoints.get("checkpoints")) {
            cps.append(write(c)).append('\n');
        }
        ByteArrayOutputStream zip = new ByteArrayOutputStream();
        try (ZipOutputStream out = new ZipOutputStream(zip)) {
            entry(out, "README.md", readme(search, matched, (String) checkpoints.get("public_key")).getBytes(StandardCharsets.UTF_8));
            entry(out, "export.jsonl", export);
            entry(out, "records.jsonl", records.toString().getBytes(StandardCharsets.UTF_8));
            entry(out, "checkpoints.jsonl", cps.toString().getBytes(StandardCharsets.UTF_8));
            entry(out, "verify", resource("evidence/verify"));
            entry(out, "export.schema.json", resource("evidence/export.schema.json"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return zip.toByteArray();
    }

    private String readme(Search search, int matched, String publicKey) {
        return """
                # Cleargate evidence bundle

                Exported %s from the console's audit search:

                    %s

                * `records.jsonl`: the %d records the search matched (one line each: id, chain, seq,
                  entry hash, person, decision, actions). Every one of them is also in `export.jsonl`.
                * `export.jsonl`: the hash-chained trail of the tenant(s) in scope from the search's start
                  to the moment of export, with the Ed25519 checkpoints signed over the chain heads.
                * `checkpoints.jsonl`: the latest signed checkpoints (copy them somewhere the gateway's
                  operators cannot change).
                * `verify`: the offline verifier (Python 3, standard library only); `export.schema.json`:
                  the format of export lines.

                Verify, pinning the gateway's published signing key:

                    python3 verify export.jsonl --pubkey %s

                It exits 0 when every record links to the one before and every checkpoint's signature
                holds, and otherwise prints the first bad sequence number of each bad chain.
                A record is evidence when its `entry_hash` in `records.jsonl` appears in a verified
                `export.jsonl` at or below a signed checkpoint.
                """.formatted(Instant.now(), search.query(), matched, publicKey);
    }

    private String write(Object value) {
        try {
            return json.writeValueAsString(value);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static byte[] drain(StreamingOutput body) {
        ByteArrayOutputStream buffer = new ByteArrayOutputStream();
        try {
            body.write(new OutputStream() {
                @Override
                public void write(int b) throws IOException {
                    write(new byte[] {(byte) b}, 0, 1);
                }

                @Override
                public void write(byte[] b, int off, int len) throws IOException {
                    if (buffer.size() + len > MAX_BYTES) {
                        throw tooLarge();
                    }
                    buffer.write(b, off, len);
                }
            });
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return buffer.toByteArray();
    }

    private static GatewayException tooLarge() {
        return new GatewayException(new GatewayError(413, "invalid_request_error", "evidence_too_large", null,
                "This search is too wide for one evidence bundle; narrow the time range or the filters.", null, null));
    }

    private static void entry(ZipOutputStream out, String name, byte[] data) throws IOException {
        out.putNextEntry(new ZipEntry(name));
        out.write(data);
        out.closeEntry();
    }

    private static byte[] resource(String path) throws IOException {
        try (InputStream in = Evidence.class.getClassLoader().getResourceAsStream(path)) {
            if (in == null) {
                throw new IllegalStateException("the build lacks " + path);
            }
            return in.readAllBytes();
        }
    }
}
