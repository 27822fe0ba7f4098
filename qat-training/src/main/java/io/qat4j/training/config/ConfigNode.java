package io.qat4j.training.config;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.StringJoiner;

/** A parsed YAML value that remembers the file and line it was written on (package-private). */
final class ConfigNode {

    enum Kind { MAP, LIST, SCALAR }

    /** A map entry: the line its key was written on and its value. */
    record Entry(int keyLine, ConfigNode value) {
    }

    final Kind kind;
    final String source;
    final int line;
    /** Entries of a MAP node, in written order. */
    final Map<String, Entry> entries;
    /** Items of a LIST node. */
    final List<ConfigNode> items;
    /** Value of a SCALAR node as constructed by SnakeYAML (String, Integer, Long, BigInteger, Double, Boolean, or null). */
    final Object scalar;
    /** Text of a SCALAR node exactly as written. */
    final String text;

    private ConfigNode(Kind kind, String source, int line, Object scalar, String text) {
        this.kind = kind;
        this.source = source;
        this.line = line;
        this.entries = kind == Kind.MAP ? new LinkedHashMap<>() : Map.of();
        this.items = kind == Kind.LIST ? new ArrayList<>() : List.of();
        this.scalar = scalar;
        this.text = text;
    }

    static ConfigNode map(String source, int line) {
        return new ConfigNode(Kind.MAP, source, line, null, null);
    }

    static ConfigNode list(String source, int line) {
        return new ConfigNode(Kind.LIST, source, line, null, null);
    }

    static ConfigNode scalar(String source, int line, Object value, String text) {
        return new ConfigNode(Kind.SCALAR, source, line, value, text);
    }

    boolean isNull() {
        return kind == Kind.SCALAR && scalar == null;
    }

    /** A short name of this value's type, used in "wrong type" messages. */
    String typeName() {
        if (kind == Kind.MAP) {
            return "map";
        }
        if (kind == Kind.LIST) {
            return "list";
        }
        if (scalar == null) {
            return "null";
        }
        if (scalar instanceof String) {
            return "string";
        }
        if (scalar instanceof Boolean) {
            return "boolean";
        }
        if (scalar instanceof Double || scalar instanceof Float) {
            return "number";
        }
        if (scalar instanceof Number) {
            return "integer";
        }
        return scalar.getClass().getSimpleName().toLowerCase();
    }

    /** The value in compact YAML flow style, as shown in problem messages. */
    String render() {
        switch (kind) {
            case MAP: {
                StringJoiner j = new StringJoiner(", ", "{", "}");
                entries.forEach((k, e) -> j.add(k + ": " + e.value().render()));
                return j.toString();
            }
            case LIST: {
                StringJoiner j = new StringJoiner(", ", "[", "]");
                items.forEach(i -> j.add(i.render()));
                return j.toString();
            }
            default:
                if (scalar == null) {
                    return "null";
                }
                return text.isEmpty() ? "\"\"" : text;
        }
    }
}
