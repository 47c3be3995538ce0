package io.cleargate.api;

import io.cleargate.pipeline.GatewayError;
import io.cleargate.pipeline.GatewayException;
import java.util.regex.Pattern;

/**
 * The client strings that reach shared state (audit columns, metric labels, logs), bounded in
 * length and charset before anything is recorded: one oversized or binary value must be a 400 for
 * its sender, never a failed audit batch for everyone else.
 */
final class ClientStrings {

    /** Model ids: audit column, metric label (when served) and log field. */
    static final int MAX_MODEL_CHARS = 128;
    /** The end-user id a client may pass; kept in the audit record for a year. */
    static final int MAX_USER_CHARS = 256;
    /** How much of a client-chosen name an error message echoes. */
    static final int MAX_ECHO_CHARS = 64;
    private static final Pattern MODEL_ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._:/@+-]*");

    private ClientStrings() {}

    static String model(String model) {
        if (model.length() > MAX_MODEL_CHARS) {
            throw bad("model", "'model' must be at most " + MAX_MODEL_CHARS + " characters.");
        }
        if (!MODEL_ID.matcher(model).matches()) {
            throw bad("model", "'model' may contain only letters, digits and . _ : / @ + - (and must start with a letter or digit).");
        }
        return model;
    }

    /** Null stays null (no user given). */
    static String user(String user) {
        if (user == null) {
            return null;
        }
        if (user.length() > MAX_USER_CHARS) {
            throw bad("user", "'user' must be at most " + MAX_USER_CHARS + " characters.");
        }
        for (int i = 0; i < user.length(); i++) {
            char c = user.charAt(i);
            boolean paired = Character.isHighSurrogate(c) && i + 1 < user.length() && Character.isLowSurrogate(user.charAt(i + 1));
            if (Character.isISOControl(c) || (!paired && Character.isSurrogate(c))) {
                throw bad("user", "'user' must not contain control characters or unpaired surrogates.");
            }
            if (paired) {
                i++;
            }
        }
        return user;
    }

    /** A client-chosen name quoted back in an error message, shortened so the echo stays small. */
    static String quoted(String name) {
        String shown = name.length() > MAX_ECHO_CHARS ? name.substring(0, MAX_ECHO_CHARS) + "..." : name;
        return "'" + shown.replaceAll("\\p{Cntrl}", "?") + "'";
    }

    /** A client-chosen name as the error's {@code param}. */
    static String shortened(String name) {
        return name.length() > MAX_ECHO_CHARS ? name.substring(0, MAX_ECHO_CHARS) : name;
    }

    private static GatewayException bad(String param, String message) {
        return new GatewayException(GatewayError.invalidRequest(param, message));
    }
}
