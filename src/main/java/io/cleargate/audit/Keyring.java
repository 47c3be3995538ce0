package io.cleargate.audit;

import io.quarkus.narayana.jta.QuarkusTransaction;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.persistence.EntityManager;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import javax.crypto.Cipher;
import javax.crypto.Mac;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * Content keys: a data key per (tenant, subject) for the encrypted mode and an HMAC key per tenant
 * for the hash-only mode, each AES-GCM-wrapped by the master key and stored in audit_key.
 * Destroying a key (crypto-shredding) makes everything encrypted under it unreadable.
 * Encryption caches active keys briefly; decryption always re-reads the key, so an erasure takes
 * effect at once on every replica.
 */
@ApplicationScoped
public class Keyring {

    static final String DATA = "data";
    static final String HMAC = "hmac";
    private static final long CACHE_MILLIS = 10_000;
    private static final SecureRandom RANDOM = new SecureRandom();

    record ActiveKey(long id, byte[] key, long loadedAt) {}

    /** Encrypted content: key id and base64(nonce ‖ ciphertext ‖ tag). */
    public record Sealed(long keyId, String ciphertext) {}

    private final EntityManager em;
    private final SecretKeySpec master;
    private final Map<String, ActiveKey> active = new ConcurrentHashMap<>();

    @Inject
    public Keyring(EntityManager em, AuditConfig config) {
        this.em = em;
        String encoded = config.masterKey().orElseGet(() -> DevKeys.loadOrCreate(
                Path.of(config.dataDir(), "audit", "master.key"), () -> Base64.getEncoder().encodeToString(random(32))));
        byte[] raw = Base64.getDecoder().decode(encoded.strip());
        if (raw.length != 32) {
            throw new IllegalStateException("cleargate.audit.master-key must be 32 bytes of base64");
        }
        this.master = new SecretKeySpec(raw, "AES");
    }

    public Sealed encrypt(String tenant, String subject, String plaintext, String associated) {
        return encrypt(tenant, subject, plaintext.getBytes(StandardCharsets.UTF_8), associated);
    }

    public Sealed encrypt(String tenant, String subject, byte[] plaintext, String associated) {
        ActiveKey key = activeKey(tenant, subject, DATA);
        byte[] sealed = gcm(Cipher.ENCRYPT_MODE, key.key(), plaintext, associated);
        return new Sealed(key.id(), Base64.getEncoder().encodeToString(sealed));
    }

    /** Empty when the key was destroyed (erased) or the ciphertext does not authenticate. */
    public Optional<String> decrypt(long keyId, String ciphertext, String associated) {
        return open(keyId, ciphertext, associated).map(plain -> new String(plain, StandardCharsets.UTF_8));
    }

    /** The plaintext bytes; empty when the key was destroyed (erased) or the ciphertext does not authenticate. */
    public Optional<byte[]> open(long keyId, String ciphertext, String associated) {
        ContentKey row = QuarkusTransaction.requiringNew().call(() -> em.find(ContentKey.class, keyId));
        if (row == null || row.wrappedKey == null) {
            return Optional.empty();
        }
        try {
            byte[] key = unwrap(row);
            return Optional.of(gcm(Cipher.DECRYPT_MODE, key, Base64.getDecoder().decode(ciphertext), associated));
        } catch (IllegalStateException e) {
            return Optional.empty();
        }
    }

    public String hmac(String tenant, String value) {
        ActiveKey key = activeKey(tenant, "", HMAC);
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key.key(), "HmacSHA256"));
            return HexFormat.of().formatHex(mac.doFinal(value.getBytes(StandardCharsets.UTF_8)));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Destroys the keys of a subject (or of the whole tenant when subject is null); returns how many. */
    public int destroy(String tenant, String subject) {
        int n = QuarkusTransaction.requiringNew().call(() -> {
            var q = em.createQuery("update ContentKey k set k.wrappedKey = null, k.destroyedAt = :now"
                    + " where k.tenant = :tenant and k.wrappedKey is not null"
                    + (subject == null ? "" : " and k.subject = :subject and k.purpose = :purpose"))
                    .setParameter("now", Instant.now())
                    .setParameter("tenant", tenant);
            if (subject != null) {
                q.setParameter("subject", subject).setParameter("purpose", DATA);
            }
            return q.executeUpdate();
        });
        active.keySet().removeIf(k -> k.startsWith(tenant + "\u0000"));
        return n;
    }

    private ActiveKey activeKey(String tenant, String subject, String purpose) {
        String cacheKey = tenant + "\u0000" + subject + "\u0000" + purpose;
        ActiveKey cached = active.get(cacheKey);
        if (cached != null && System.currentTimeMillis() - cached.loadedAt() < CACHE_MILLIS) {
            return cached;
        }
        ActiveKey loaded = QuarkusTransaction.requiringNew().call(() -> {
            List<ContentKey> rows = em.createQuery("select k from ContentKey k where k.tenant = :t and k.subject = :s"
                    + " and k.purpose = :p and k.wrappedKey is not null order by k.id", ContentKey.class)
                    .setParameter("t", tenant).setParameter("s", subject).setParameter("p", purpose)
                    .setMaxResults(1).getResultList();
            if (!rows.isEmpty()) {
                return new ActiveKey(rows.getFirst().id, unwrap(rows.getFirst()), System.currentTimeMillis());
            }
            byte[] fresh = random(32);
            ContentKey row = new ContentKey();
            row.tenant = tenant;
            row.subject = subject;
            row.purpose = purpose;
            row.wrappedKey = Base64.getEncoder().encodeToString(
                    gcm(Cipher.ENCRYPT_MODE, master.getEncoded(), fresh, owner(tenant, subject, purpose)));
            row.createdAt = Instant.now();
            em.persist(row);
            em.flush();
            return new ActiveKey(row.id, fresh, System.currentTimeMillis());
        });
        active.put(cacheKey, loaded);
        return loaded;
    }

    /** The owner is the wrapping's associated data, so a wrapped key moved to another row does not unwrap. */
    private byte[] unwrap(ContentKey row) {
        return gcm(Cipher.DECRYPT_MODE, master.getEncoded(), Base64.getDecoder().decode(row.wrappedKey),
                owner(row.tenant, row.subject, row.purpose));
    }

    private static String owner(String tenant, String subject, String purpose) {
        return "key|" + tenant + "|" + subject + "|" + purpose;
    }

    static byte[] gcm(int mode, byte[] key, byte[] input, String associated) {
        Cipher cipher = IDLE_CIPHERS.poll();
        try {
            if (cipher == null) {
                cipher = Cipher.getInstance("AES/GCM/NoPadding");
            }
            if (mode == Cipher.ENCRYPT_MODE) {
                byte[] nonce = random(12);
                cipher.init(mode, new SecretKeySpec(key, "AES"), new GCMParameterSpec(128, nonce));
                cipher.updateAAD(associated.getBytes(StandardCharsets.UTF_8));
                byte[] out = cipher.doFinal(input);
                return ByteBuffer.allocate(12 + out.length).put(nonce).put(out).array();
            }
            cipher.init(mode, new SecretKeySpec(key, "AES"), new GCMParameterSpec(128, input, 0, 12));
            cipher.updateAAD(associated.getBytes(StandardCharsets.UTF_8));
            return cipher.doFinal(input, 12, input.length - 12);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES-GCM failed", e);
        } finally {
            // init() with a fresh key and nonce resets a cipher whatever its last use left behind.
            if (cipher != null) {
                IDLE_CIPHERS.offer(cipher);
            }
        }
    }

    /**
     * Idle AES-GCM ciphers, reused: {@code Cipher.getInstance} walks the provider list on every
     * call, which was half of what sealing a request's content cost. Every request runs on a new
     * virtual thread, so a shared pool rather than a thread-local; it holds at most as many
     * ciphers as were ever in use at once.
     */
    private static final java.util.concurrent.ConcurrentLinkedQueue<Cipher> IDLE_CIPHERS =
            new java.util.concurrent.ConcurrentLinkedQueue<>();

    static byte[] random(int n) {
        byte[] b = new byte[n];
        RANDOM.nextBytes(b);
        return b;
    }
}
