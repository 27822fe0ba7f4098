package io.qat4j.training.config;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiPredicate;

/**
 * A small declarative schema for YAML config values (package-private). Each schema checks one {@link ConfigNode},
 * reports every problem it finds and returns the plain Java value (with defaults applied), or {@code null} when the
 * value is invalid.
 */
abstract class Schema {

    /** What is allowed, as a phrase such as "an integer in 1..100000" or "one of relu, tanh". */
    abstract String describe();

    /**
     * Checks {@code node} (never null), adding problems to {@code problems}.
     *
     * @param siblings the already-checked values of the enclosing map (fields declared earlier)
     * @return the plain value (String, Integer, Long, Double, Boolean, List, LinkedHashMap) or null if invalid
     */
    abstract Object check(ConfigNode node, String path, Map<String, Object> siblings, List<ConfigProblem> problems);

    /** True if a missing value should be filled by checking an empty map (so nested defaults apply). */
    boolean isMap() {
        return false;
    }

    // ----- factories -----------------------------------------------------------------------------------------------

    static MapSchema map() {
        return new MapSchema("");
    }

    /** A map whose unknown-key messages add {@code context}, e.g. "for model lenet5". */
    static MapSchema map(String context) {
        return new MapSchema(" " + context);
    }

    static Schema string() {
        return new StringSchema(null);
    }

    static Schema oneOf(List<String> allowed) {
        return new StringSchema(List.copyOf(allowed));
    }

    static Schema bool() {
        return new BoolSchema();
    }

    /** true, false or one of {@code names}; yields the Boolean or the String as given. */
    static Schema boolOrOneOf(List<String> names) {
        return new BoolOrStringSchema(List.copyOf(names));
    }

    /** An integer in {@code [min, max]}; yields Integer if the range fits an int, else Long. */
    static Schema integer(long min, long max) {
        return new IntSchema(min, max);
    }

    static NumberSchema number() {
        return new NumberSchema();
    }

    static Schema listOf(Schema item, int minSize) {
        return new ListSchema(item, minSize);
    }

    /** A bit width 1..32 or the string {@code float}; yields Integer bits or "float". */
    static Schema precision() {
        return new PrecisionSchema(null);
    }

    /**
     * A precision of a backward path ({@code gradients}, {@code errors} or {@code updates}): as {@link #precision()}
     * plus the gradient-path forms {@code shift(...)}, {@code wage(...)} and {@code terngrad(...)} where the path
     * allows them.
     */
    static Schema pathPrecision(String path) {
        return new PrecisionSchema(path);
    }

    /** A quantizer spec string or {@code float} (no bit-width shorthand); yields the canonical spec text. */
    static Schema quantSpec() {
        return new QuantSpecSchema();
    }

    /** Picks the schema from the value of the sibling field {@code key} (declared earlier in the same map). */
    static Schema select(String key, Map<String, ? extends Schema> cases) {
        return new SelectSchema(key, new LinkedHashMap<>(cases));
    }

    // ----- shared problem helpers ----------------------------------------------------------------------------------

    static void wrongType(ConfigNode node, String path, String allowed, List<ConfigProblem> problems) {
        problems.add(new ConfigProblem(node.source, node.line, path, node.render(),
                "has the wrong type (" + node.typeName() + "): allowed " + allowed));
    }

    static void outOfRange(ConfigNode node, String path, String allowed, List<ConfigProblem> problems) {
        problems.add(new ConfigProblem(node.source, node.line, path, node.render(), "is out of range: allowed " + allowed));
    }

    static String child(String path, String key) {
        return path.isEmpty() ? key : path + "." + key;
    }

    /** The closest candidate to {@code word} by edit distance, or null if none is reasonably close. */
    static String closest(String word, Iterable<String> candidates) {
        String best = null;
        int bestDistance = Integer.MAX_VALUE;
        for (String c : candidates) {
            int d = editDistance(word.toLowerCase(), c.toLowerCase());
            if (d < bestDistance) {
                best = c;
                bestDistance = d;
            }
        }
        return best != null && bestDistance <= Math.max(2, word.length() / 2) ? best : null;
    }

    static int editDistance(String a, String b) {
        int[] prev = new int[b.length() + 1];
        int[] cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            prev[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.length()];
    }

    static String formatNumber(double d) {
        return d == Math.rint(d) && Math.abs(d) < 1e15 ? Long.toString((long) d) : Double.toString(d);
    }

    // ----- schema kinds ----------------------------------------------------------------------------------------------

    /** A map with a fixed, ordered set of allowed keys. */
    static final class MapSchema extends Schema {

        private record Field(String name, Schema schema, boolean required, Object defaultValue) {
        }

        private record Rule(String field, BiPredicate<Object, Map<String, Object>> ok, String message) {
        }

        private final String context;
        private final Map<String, Field> fields = new LinkedHashMap<>();
        private final List<Rule> rules = new ArrayList<>();
        private List<String> exactlyOne = List.of();

        private MapSchema(String context) {
            this.context = context;
        }

        /** An optional key without a default (maps get their nested defaults; other values are left out). */
        MapSchema field(String name, Schema schema) {
            return add(new Field(name, schema, false, null));
        }

        /** An optional key with a default value (given as the plain value the schema would produce). */
        MapSchema field(String name, Schema schema, Object defaultValue) {
            return add(new Field(name, schema, false, defaultValue));
        }

        /** A key that must be given. */
        MapSchema required(String name, Schema schema) {
            return add(new Field(name, schema, true, null));
        }

        /** A check across keys: if {@code field} is given and {@code ok(value, checkedMap)} is false, report message. */
        MapSchema rule(String field, BiPredicate<Object, Map<String, Object>> ok, String message) {
            rules.add(new Rule(field, ok, message));
            return this;
        }

        /** Exactly one of the given keys must be present. */
        MapSchema exactlyOneOf(String... names) {
            exactlyOne = List.of(names);
            return this;
        }

        private MapSchema add(Field f) {
            fields.put(f.name(), f);
            return this;
        }

        @Override
        boolean isMap() {
            return true;
        }

        @Override
        String describe() {
            return "a map with keys " + String.join(", ", fields.keySet());
        }

        @Override
        Object check(ConfigNode node, String path, Map<String, Object> siblings, List<ConfigProblem> problems) {
            if (node.isNull()) {
                node = ConfigNode.map(node.source, node.line);
            }
            if (node.kind != ConfigNode.Kind.MAP) {
                wrongType(node, path, describe(), problems);
                return null;
            }
            for (Map.Entry<String, ConfigNode.Entry> e : node.entries.entrySet()) {
                if (!fields.containsKey(e.getKey())) {
                    String suggestion = closest(e.getKey(), fields.keySet());
                    ConfigNode value = e.getValue().value();
                    problems.add(new ConfigProblem(value.source, e.getValue().keyLine(), child(path, e.getKey()), null,
                            "is not an allowed key" + context
                                    + (suggestion == null ? "" : " (did you mean " + suggestion + "?)")
                                    + ": allowed keys are " + String.join(", ", fields.keySet())));
                }
            }
            Map<String, Object> out = new LinkedHashMap<>();
            for (Field f : fields.values()) {
                ConfigNode.Entry entry = node.entries.get(f.name());
                ConfigNode value = entry == null ? null : entry.value();
                if (value == null || value.isNull()) {
                    // Not given (or given as null): use the default.
                    if (f.schema().isMap()) {
                        value = ConfigNode.map(value == null ? node.source : value.source,
                                value == null ? node.line : value.line);
                    } else if (f.required()) {
                        problems.add(new ConfigProblem(node.source, node.line, child(path, f.name()), null,
                                "is missing: required, allowed " + f.schema().describe()));
                        continue;
                    } else {
                        if (f.defaultValue() != null) {
                            out.put(f.name(), f.defaultValue());
                        }
                        continue;
                    }
                }
                Object checked = f.schema().check(value, child(path, f.name()), Collections.unmodifiableMap(out), problems);
                if (checked != null) {
                    out.put(f.name(), checked);
                }
            }
            for (Rule r : rules) {
                ConfigNode.Entry entry = node.entries.get(r.field());
                Object value = out.get(r.field());
                if (entry != null && value != null && !r.ok().test(value, out)) {
                    ConfigNode v = entry.value();
                    problems.add(new ConfigProblem(v.source, v.line, child(path, r.field()), v.render(),
                            "is not allowed: " + r.message()));
                }
            }
            if (!exactlyOne.isEmpty()) {
                long given = exactlyOne.stream().filter(node.entries::containsKey).count();
                if (given != 1) {
                    problems.add(new ConfigProblem(node.source, node.line, path, node.render(),
                            (given == 0 ? "has none of " : "has more than one of ") + String.join(", ", exactlyOne)
                                    + ": allowed exactly one of " + String.join(", ", exactlyOne)));
                }
            }
            return out;
        }
    }

    /** Picks a map schema by the value of an earlier sibling key (e.g. model options by model name). */
    static final class SelectSchema extends Schema {
        private final String key;
        private final Map<String, Schema> cases;

        private SelectSchema(String key, Map<String, Schema> cases) {
            this.key = key;
            this.cases = cases;
        }

        @Override
        boolean isMap() {
            return true;
        }

        @Override
        String describe() {
            return "a map of options that depend on " + key;
        }

        @Override
        Object check(ConfigNode node, String path, Map<String, Object> siblings, List<ConfigProblem> problems) {
            Schema schema = cases.get(siblings.get(key));
            // If the selecting key is itself invalid, that problem is already reported.
            return schema == null ? null : schema.check(node, path, siblings, problems);
        }
    }

    /** A string, optionally restricted to a list of allowed values. */
    static final class StringSchema extends Schema {
        private final List<String> allowed;

        private StringSchema(List<String> allowed) {
            this.allowed = allowed;
        }

        @Override
        String describe() {
            return allowed == null ? "a string" : "one of " + String.join(", ", allowed);
        }

        @Override
        Object check(ConfigNode node, String path, Map<String, Object> siblings, List<ConfigProblem> problems) {
            if (!(node.scalar instanceof String s) || node.kind != ConfigNode.Kind.SCALAR) {
                wrongType(node, path, describe(), problems);
                return null;
            }
            if (allowed != null && !allowed.contains(s)) {
                String suggestion = closest(s, allowed);
                problems.add(new ConfigProblem(node.source, node.line, path, node.render(),
                        "is not allowed: allowed " + describe()
                                + (suggestion == null ? "" : " (did you mean " + suggestion + "?)")));
                return null;
            }
            return s;
        }
    }

    /** true or false. */
    static final class BoolSchema extends Schema {
        @Override
        String describe() {
            return "true or false";
        }

        @Override
        Object check(ConfigNode node, String path, Map<String, Object> siblings, List<ConfigProblem> problems) {
            if (node.scalar instanceof Boolean b) {
                return b;
            }
            wrongType(node, path, describe(), problems);
            return null;
        }
    }

    /** true, false or one of a list of names (a switch with named variants, such as batch_norm: range). */
    static final class BoolOrStringSchema extends Schema {
        private final List<String> names;

        private BoolOrStringSchema(List<String> names) {
            this.names = names;
        }

        @Override
        String describe() {
            return "one of false, true, " + String.join(", ", names);
        }

        @Override
        Object check(ConfigNode node, String path, Map<String, Object> siblings, List<ConfigProblem> problems) {
            if (node.scalar instanceof Boolean b) {
                return b;
            }
            if (!(node.scalar instanceof String s) || node.kind != ConfigNode.Kind.SCALAR) {
                wrongType(node, path, describe(), problems);
                return null;
            }
            if (!names.contains(s)) {
                List<String> all = new ArrayList<>(List.of("false", "true"));
                all.addAll(names);
                String suggestion = closest(s, all);
                problems.add(new ConfigProblem(node.source, node.line, path, node.render(),
                        "is not allowed: allowed " + describe()
                                + (suggestion == null ? "" : " (did you mean " + suggestion + "?)")));
                return null;
            }
            return s;
        }
    }

    /** A whole number in a closed range. */
    static final class IntSchema extends Schema {
        private final long min;
        private final long max;

        private IntSchema(long min, long max) {
            this.min = min;
            this.max = max;
        }

        private boolean fitsInt() {
            return min >= Integer.MIN_VALUE && max <= Integer.MAX_VALUE;
        }

        @Override
        String describe() {
            boolean noMax = max == Integer.MAX_VALUE || max == Long.MAX_VALUE;
            boolean noMin = min == Integer.MIN_VALUE || min == Long.MIN_VALUE;
            if (noMin && noMax) {
                return "an integer";
            }
            if (noMax) {
                return "an integer >= " + min;
            }
            return "an integer in " + min + ".." + max;
        }

        @Override
        Object check(ConfigNode node, String path, Map<String, Object> siblings, List<ConfigProblem> problems) {
            Object v = node.scalar;
            if (!(v instanceof Integer || v instanceof Long || v instanceof BigInteger)) {
                wrongType(node, path, describe(), problems);
                return null;
            }
            BigInteger big = new BigInteger(v.toString());
            if (big.compareTo(BigInteger.valueOf(min)) < 0 || big.compareTo(BigInteger.valueOf(max)) > 0) {
                outOfRange(node, path, describe(), problems);
                return null;
            }
            return fitsInt() ? (Object) big.intValue() : (Object) big.longValue();
        }
    }

    /** A finite number (integers are accepted and become doubles), with optional open or closed bounds. */
    static final class NumberSchema extends Schema {
        private Double min;
        private boolean minInclusive;
        private Double max;
        private boolean maxInclusive;

        NumberSchema greaterThan(double v) {
            min = v;
            minInclusive = false;
            return this;
        }

        NumberSchema atLeast(double v) {
            min = v;
            minInclusive = true;
            return this;
        }

        NumberSchema below(double v) {
            max = v;
            maxInclusive = false;
            return this;
        }

        NumberSchema atMost(double v) {
            max = v;
            maxInclusive = true;
            return this;
        }

        @Override
        String describe() {
            if (min != null && max != null) {
                return "a number in " + (minInclusive ? "[" : "(") + formatNumber(min) + ", " + formatNumber(max)
                        + (maxInclusive ? "]" : ")");
            }
            if (min != null) {
                return "a number " + (minInclusive ? ">= " : "> ") + formatNumber(min);
            }
            if (max != null) {
                return "a number " + (maxInclusive ? "<= " : "< ") + formatNumber(max);
            }
            return "a number";
        }

        @Override
        Object check(ConfigNode node, String path, Map<String, Object> siblings, List<ConfigProblem> problems) {
            if (!(node.scalar instanceof Number n)) {
                wrongType(node, path, describe(), problems);
                return null;
            }
            double d = n.doubleValue();
            boolean ok = Double.isFinite(d)
                    && (min == null || (minInclusive ? d >= min : d > min))
                    && (max == null || (maxInclusive ? d <= max : d < max));
            if (!ok) {
                outOfRange(node, path, describe(), problems);
                return null;
            }
            return d;
        }
    }

    /** A list whose items all follow one schema. */
    static final class ListSchema extends Schema {
        private final Schema item;
        private final int minSize;

        private ListSchema(Schema item, int minSize) {
            this.item = item;
            this.minSize = minSize;
        }

        @Override
        String describe() {
            return (minSize > 0 ? "a non-empty list" : "a list") + " of items that are each " + item.describe();
        }

        @Override
        Object check(ConfigNode node, String path, Map<String, Object> siblings, List<ConfigProblem> problems) {
            if (node.kind != ConfigNode.Kind.LIST) {
                wrongType(node, path, describe(), problems);
                return null;
            }
            if (node.items.size() < minSize) {
                outOfRange(node, path, describe(), problems);
                return null;
            }
            List<Object> out = new ArrayList<>();
            boolean valid = true;
            for (int i = 0; i < node.items.size(); i++) {
                ConfigNode itemNode = node.items.get(i);
                if (itemNode.isNull() && item.isMap()) {
                    itemNode = ConfigNode.map(itemNode.source, itemNode.line);
                }
                Object checked = item.check(itemNode, path + "[" + i + "]", Map.of(), problems);
                valid &= checked != null;
                out.add(checked);
            }
            return valid ? out : null;
        }
    }

    /** A precision: a bit width 1..32 or the string "float". */
    static final class PrecisionSchema extends Schema {
        /** null for a forward site (weights, activations); else the backward path name. */
        private final String path;

        PrecisionSchema(String path) {
            this.path = path;
        }

        @Override
        String describe() {
            String forms = path == null ? "" : path.equals("gradients")
                    ? ", shift(bits=N), wage(bits=N) or terngrad" : ", shift(bits=N)";
            return "an integer bit width in 1..32, float, or a quantizer spec such as ternary or int(bits=4, axis=channel) "
                    + "(see docs/quantizers.md)" + forms;
        }

        @Override
        Object check(ConfigNode node, String path, Map<String, Object> siblings, List<ConfigProblem> problems) {
            Object v = node.scalar;
            if ("float".equals(v)) {
                return "float";
            }
            if (v instanceof String text) {
                try {
                    if (this.path != null) {
                        return io.qat4j.layers.train.GradientSpec.parse(text).requireAllowedFor(this.path).toString();
                    }
                    return io.qat4j.layers.quant.QuantSpec.parse(text).toString();
                } catch (IllegalArgumentException e) {
                    problems.add(new ConfigProblem(node.source, node.line, path, node.render(),
                            "is not a valid precision (" + e.getMessage() + "): allowed " + describe()));
                    return null;
                }
            }
            if (!(v instanceof Integer || v instanceof Long || v instanceof BigInteger)) {
                wrongType(node, path, describe(), problems);
                return null;
            }
            long bits = ((Number) v).longValue();
            if (v instanceof BigInteger || bits < 1 || bits > 32) {
                outOfRange(node, path, describe(), problems);
                return null;
            }
            return (int) bits;
        }
    }

    /** A quantizer spec or float, for formats that have no bit-width shorthand (stored weights, optimizer state). */
    static final class QuantSpecSchema extends Schema {
        @Override
        String describe() {
            return "float or a quantizer spec without observer, such as fixed(m=0, n=7), fp16, bf16 or "
                    + "minifloat(e=5, m=10, rounding=stochastic) (see docs/quantizers.md)";
        }

        @Override
        Object check(ConfigNode node, String path, Map<String, Object> siblings, List<ConfigProblem> problems) {
            if (!(node.scalar instanceof String text)) {
                wrongType(node, path, describe(), problems);
                return null;
            }
            try {
                io.qat4j.layers.quant.QuantSpec s = io.qat4j.layers.quant.QuantSpec.parse(text);
                io.qat4j.layers.train.GradientSpec.of(s);
                if (!s.isFloat() && s.granularity() != io.qat4j.layers.quant.Granularity.TENSOR) {
                    throw new IllegalArgumentException("'" + s + "' is not per tensor");
                }
                return s.toString();
            } catch (IllegalArgumentException e) {
                problems.add(new ConfigProblem(node.source, node.line, path, node.render(),
                        "is not a valid format (" + e.getMessage() + "): allowed " + describe()));
                return null;
            }
        }
    }
}
