package io.cleargate.moderation;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.Map;

/**
 * Where each value of a JSON document starts (line and column), by the path syntax the profile
 * parser uses in its problems: {@code strict.rules[3].input}. Lets a problem found in a parsed
 * document be reported at its place in the administrator's file.
 */
final class JsonLocations {

    /** Line and column, both from 1. */
    record Location(int line, int column) {}

    private static final JsonFactory FACTORY = new JsonFactory();

    private final Map<String, Location> byPath;

    private JsonLocations(Map<String, Location> byPath) {
        this.byPath = byPath;
    }

    /** The locations of a document; an unreadable one has none. */
    static JsonLocations of(String json) {
        Map<String, Location> byPath = new HashMap<>();
        try (JsonParser p = FACTORY.createParser(json)) {
            Deque<String> containers = new ArrayDeque<>(); // path of each open container
            Deque<int[]> indexes = new ArrayDeque<>(); // next element index of each open array ({-1} for objects)
            String field = null;
            for (JsonToken t = p.nextToken(); t != null; t = p.nextToken()) {
                if (t == JsonToken.FIELD_NAME) {
                    field = p.currentName();
                    continue;
                }
                if (t == JsonToken.END_OBJECT || t == JsonToken.END_ARRAY) {
                    containers.pop();
                    indexes.pop();
                    continue;
                }
                String path = containers.isEmpty() ? "" : child(containers.peek(), indexes.peek(), field);
                var loc = p.currentTokenLocation();
                byPath.putIfAbsent(path, new Location(loc.getLineNr(), loc.getColumnNr()));
                if (t == JsonToken.START_OBJECT) {
                    containers.push(path);
                    indexes.push(new int[] {-1});
                } else if (t == JsonToken.START_ARRAY) {
                    containers.push(path);
                    indexes.push(new int[] {0});
                }
            }
        } catch (IOException e) {
            // an unreadable document: its problems are reported without a location
        }
        return new JsonLocations(byPath);
    }

    private static String child(String parent, int[] index, String field) {
        if (index[0] >= 0) {
            return parent + "[" + index[0]++ + "]";
        }
        return parent.isEmpty() ? field : parent + "." + field;
    }

    /** The location of exactly {@code path}, or null. */
    Location exact(String path) {
        return byPath.get(path);
    }

    /** The location of {@code path}, or of its nearest enclosing value that has one. */
    Location find(String path) {
        String p = path;
        while (true) {
            Location loc = byPath.get(p);
            if (loc != null || p.isEmpty()) {
                return loc;
            }
            int cut = Math.max(p.lastIndexOf('.'), p.lastIndexOf('['));
            p = cut < 0 ? "" : p.substring(0, cut);
        }
    }
}
