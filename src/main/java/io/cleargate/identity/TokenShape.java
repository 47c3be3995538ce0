package io.cleargate.identity;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.util.Base64;

/**
 * The structural checks a bearer token must pass before anyone asks the identity provider: three
 * base64url parts, a JSON header naming the one algorithm the gateway accepts (RS256, never
 * {@code none}, never an HMAC), a JSON object as payload and a non-empty signature. A token that
 * fails them is a forgery or garbage whatever Keycloak's state, so it is a 401 at once.
 */
final class TokenShape {

    private static final ObjectMapper JSON = new ObjectMapper();
    static final String ALGORITHM = "RS256";

    private TokenShape() {}

    /** Why {@code token} cannot be a valid access token, or null when it may be one. */
    static String problem(String token) {
        String[] parts = token.split("\\.", -1);
        if (parts.length != 3) {
            return "not three parts";
        }
        if (parts[2].isEmpty()) {
            return "unsigned";
        }
        JsonNode header = object(parts[0]);
        if (header == null) {
            return "header is not a JSON object";
        }
        if (!ALGORITHM.equals(header.path("alg").asText(null))) {
            return "algorithm is not " + ALGORITHM;
        }
        if (object(parts[1]) == null) {
            return "payload is not a JSON object";
        }
        try {
            if (Base64.getUrlDecoder().decode(parts[2]).length == 0) {
                return "unsigned";
            }
        } catch (IllegalArgumentException e) {
            return "signature is not base64url";
        }
        return null;
    }

    private static JsonNode object(String part) {
        try {
            JsonNode node = JSON.readTree(Base64.getUrlDecoder().decode(part));
            return node != null && node.isObject() ? node : null;
        } catch (IllegalArgumentException | IOException e) {
            return null;
        }
    }
}
