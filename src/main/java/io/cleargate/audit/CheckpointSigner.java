package io.cleargate.audit;

import io.quarkus.narayana.jta.QuarkusTransaction;
import io.quarkus.scheduler.Scheduled;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.persistence.EntityManager;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.spec.NamedParameterSpec;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Arrays;
import java.util.Base64;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import org.jboss.logging.Logger;

/**
 * Signs chain heads with Ed25519 at intervals. A checkpoint commits to (chain, seq, head hash,
 * time); a verifier holding the public key detects any change to the chain up to that sequence
 * and any truncation below it. The key is a 32-byte seed (RFC 8032 private key) from
 * configuration, or a development seed generated in the data directory.
 */
@ApplicationScoped
public class CheckpointSigner {

    private static final Logger LOG = Logger.getLogger(CheckpointSigner.class);

    private final EntityManager em;
    private final KeyPair pair;
    private final byte[] publicKey;
    private final String keyId;

    @Inject
    public CheckpointSigner(EntityManager em, AuditConfig config) {
        this.em = em;
        String seed = config.signingKey().orElseGet(() -> DevKeys.loadOrCreate(
                Path.of(config.dataDir(), "audit", "checkpoint-ed25519.seed"),
                () -> Base64.getEncoder().encodeToString(Keyring.random(32))));
        this.pair = fromSeed(Base64.getDecoder().decode(seed.strip()));
        byte[] x509 = pair.getPublic().getEncoded();
        this.publicKey = Arrays.copyOfRange(x509, x509.length - 32, x509.length);
        this.keyId = Canonical.sha256(publicKey).substring(0, 16);
    }

    /** The bytes a checkpoint signature covers. */
    public static byte[] message(String chain, long seq, String headHash, String signedAt) {
        return ("cleargate-checkpoint-v1|" + chain + "|" + seq + "|" + headHash + "|" + signedAt)
                .getBytes(StandardCharsets.UTF_8);
    }

    public String keyId() {
        return keyId;
    }

    /** Raw 32-byte Ed25519 public key, hex. */
    public String publicKeyHex() {
        return HexFormat.of().formatHex(publicKey);
    }

    /** A document signed with the checkpoint key: the signature covers {@link #documentMessage}. */
    public record SignedDocument(String type, String sha256, String keyId, String algorithm, String signature) {}

    /** The bytes a document signature covers: its type and the SHA-256 of its canonical JSON. */
    public static byte[] documentMessage(String type, String sha256) {
        return ("cleargate-document-v1|" + type + "|" + sha256).getBytes(StandardCharsets.UTF_8);
    }

    /**
     * Signs a report (for example a model probe report) with the same Ed25519 key as the
     * checkpoints, so a third party holding {@link #publicKeyHex()} can check it offline.
     */
    public SignedDocument signDocument(String type, String canonicalJson) {
        String sha = Canonical.sha256(canonicalJson);
        try {
            Signature s = Signature.getInstance("Ed25519");
            s.initSign(pair.getPrivate());
            s.update(documentMessage(type, sha));
            return new SignedDocument(type, sha, keyId, "Ed25519", Base64.getEncoder().encodeToString(s.sign()));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    public boolean verifyDocument(String canonicalJson, SignedDocument d) {
        try {
            Signature s = Signature.getInstance("Ed25519");
            s.initVerify(pair.getPublic());
            s.update(documentMessage(d.type(), Canonical.sha256(canonicalJson)));
            return keyId.equals(d.keyId()) && Canonical.sha256(canonicalJson).equals(d.sha256())
                    && s.verify(Base64.getDecoder().decode(d.signature()));
        } catch (GeneralSecurityException | IllegalArgumentException e) {
            return false;
        }
    }

    public boolean verify(Checkpoint c) {
        try {
            Signature s = Signature.getInstance("Ed25519");
            s.initVerify(pair.getPublic());
            s.update(message(c.chainId, c.seq, c.headHash, c.signedAt));
            return keyId.equals(c.keyId) && s.verify(Base64.getDecoder().decode(c.signature));
        } catch (GeneralSecurityException | IllegalArgumentException e) {
            return false;
        }
    }

    @Scheduled(every = "${cleargate.audit.checkpoint-every:10s}", concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    void scheduled() {
        try {
            checkpointAll();
        } catch (RuntimeException e) {
            LOG.warnf("checkpointing failed: %s", AuditWriter.describe(e));
        }
    }

    /** Signs every chain head that moved since its last checkpoint; returns how many were signed. */
    public int checkpointAll() {
        return QuarkusTransaction.requiringNew().call(() -> {
            Map<String, Long> signed = new HashMap<>();
            for (Object[] row : em.createQuery("select c.chainId, max(c.seq) from Checkpoint c group by c.chainId",
                    Object[].class).getResultList()) {
                signed.put((String) row[0], (Long) row[1]);
            }
            int n = 0;
            for (ChainHead head : em.createQuery("select h from ChainHead h", ChainHead.class).getResultList()) {
                if (head.headSeq > 0 && signed.getOrDefault(head.chainId, 0L) < head.headSeq) {
                    em.persist(sign(head.chainId, head.headSeq, head.headHash));
                    n++;
                }
            }
            return n;
        });
    }

    List<Checkpoint> checkpoints(String chain) {
        return em.createQuery("select c from Checkpoint c where c.chainId = :c order by c.seq, c.id", Checkpoint.class)
                .setParameter("c", chain).getResultList();
    }

    private Checkpoint sign(String chain, long seq, String headHash) {
        Checkpoint c = new Checkpoint();
        c.chainId = chain;
        c.seq = seq;
        c.headHash = headHash;
        c.signedAt = Instant.now().truncatedTo(ChronoUnit.MILLIS).toString();
        c.keyId = keyId;
        try {
            Signature s = Signature.getInstance("Ed25519");
            s.initSign(pair.getPrivate());
            s.update(message(chain, seq, headHash, c.signedAt));
            c.signature = Base64.getEncoder().encodeToString(s.sign());
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
        return c;
    }

    /** The JDK derives an Ed25519 key pair from the generator's random bytes: feed it the seed. */
    private static KeyPair fromSeed(byte[] seed) {
        if (seed.length != 32) {
            throw new IllegalStateException("cleargate.audit.signing-key must be a 32-byte base64 seed");
        }
        try {
            KeyPairGenerator g = KeyPairGenerator.getInstance("Ed25519");
            g.initialize(NamedParameterSpec.ED25519, new SecureRandom() {
                @Override
                public void nextBytes(byte[] bytes) {
                    System.arraycopy(seed, 0, bytes, 0, Math.min(seed.length, bytes.length));
                }
            });
            return g.generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }
}
