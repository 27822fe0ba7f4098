package io.qat4j.layers.train;

import io.qat4j.layers.quant.QuantSpec;
import io.qat4j.layers.quant.RoundingMode;
import org.nd4j.shade.jackson.annotation.JsonCreator;
import org.nd4j.shade.jackson.annotation.JsonValue;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What one tensor of the training step's backward half (an error E, a weight gradient G, a weight
 * update) is turned into: an immutable value written and read as a strict spec string, like
 * {@link QuantSpec} for the forward sites.
 *
 * <p>Forms:
 * <ul>
 *   <li>{@code float}: untouched.</li>
 *   <li>Any quantizer spec of {@code docs/quantizers.md}, e.g. {@code int(bits=8, rounding=stochastic)},
 *       {@code fixed(bits=8, dynamic=true)}, {@code fp8_e5m2}: {@code y = Q(x)} (fake-quantized, same scale as
 *       x). Observers are not allowed (the backward paths keep no state).</li>
 *   <li>{@code shift(bits=k, rounding=nearest_even)}: WAGE's error quantizer (Wu et al., arXiv:1802.04680,
 *       eq. 10): {@code s = 2^round(log2 max|x|)}, {@code y = s · clip(round(x/s · 2^(k-1)), ±(2^(k-1)-1)) /
 *       2^(k-1)}. The reference code hands on the normalized {@code y/s}; this form multiplies back by the
 *       power of two {@code s} (exact), which changes nothing downstream because every WAGE gradient is
 *       normalized by its own power-of-two maximum again.</li>
 *   <li>{@code wage(bits=k, r=16)}: WAGE's gradient operator (eq. 11-12, gradients only): with the learning
 *       rate η, {@code y = SR(Q_r(η · x / 2^round(log2 max|x|))) / 2^(k-1)} where {@code Q_r} rounds to the
 *       grid 2^-(r-1) and SR rounds stochastically to an integer. The result is the weight update itself.</li>
 *   <li>{@code terngrad(clip=2.5)}: TernGrad (Wen et al., arXiv:1705.07878, gradients only): clip to
 *       ±clip·σ (σ the standard deviation of the tensor; 0 disables clipping), then
 *       {@code y = s · sign(x) · b} with {@code s = max|x|} and {@code b ~ Bernoulli(|x|/s)}.</li>
 * </ul>
 *
 * <p>Canonical text: quantizer specs print as {@link QuantSpec#toString()}; {@code shift} and {@code wage}
 * always print {@code bits}, other keys only when they differ from their defaults; {@code parse(s.toString())}
 * equals s. Jackson writes the spec as this string.
 *
 * <p>Example spec strings: {@code shift(bits=8)}, {@code wage(bits=8)}, {@code terngrad},
 * {@code int(bits=8, rounding=stochastic)}.
 */
public final class GradientSpec implements Serializable {
    private static final long serialVersionUID = 1L;
    private static final Pattern CALL = Pattern.compile("\\s*([a-z_0-9]+)\\s*(?:\\((.*)\\))?\\s*", Pattern.DOTALL);

    /** Default random-number resolution of {@code wage}: the reference code's bitsR. */
    public static final int DEFAULT_RANDOM_BITS = 16;
    /** Default clipping of {@code terngrad}, in standard deviations (the paper's 2.5σ). */
    public static final double DEFAULT_TERNGRAD_CLIP = 2.5;

    /** The forms a gradient-path spec takes. */
    public enum Kind {
        /** Untouched. */
        FLOAT,
        /** A forward-style quantizer spec applied to the tensor. */
        QUANT,
        /** WAGE's shift-scaled error quantizer. */
        SHIFT,
        /** WAGE's gradient operator (learning rate folded in). */
        WAGE,
        /** TernGrad's stochastic ternary gradient. */
        TERNGRAD
    }

    /** {@code float}. */
    public static final GradientSpec FLOAT = new GradientSpec(Kind.FLOAT, QuantSpec.FLOAT, 32,
            RoundingMode.NEAREST_EVEN, 0, 0);

    private final Kind kind;
    private final QuantSpec quant;
    private final int bits;
    private final RoundingMode rounding;
    private final int randomBits;
    private final double clip;
    private final String canonical;

    private GradientSpec(Kind kind, QuantSpec quant, int bits, RoundingMode rounding, int randomBits, double clip) {
        this.kind = kind;
        this.quant = quant;
        this.bits = bits;
        this.rounding = rounding;
        this.randomBits = randomBits;
        this.clip = clip;
        this.canonical = print();
    }

    /** A quantizer spec applied to the tensor ({@code float} gives {@link #FLOAT}). */
    public static GradientSpec of(QuantSpec spec) {
        if (spec.isFloat()) {
            return FLOAT;
        }
        if (spec.needsObserver()) {
            throw new IllegalArgumentException("'" + spec + "' has an observer, but gradient, error, update and optimizer-"
                    + "state quantizers keep no state; drop the observer (e.g. " + spec.kind().specName()
                    + " with its range taken from each tensor)");
        }
        return new GradientSpec(Kind.QUANT, spec, spec.bits(), spec.rounding(), 0, 0);
    }

    /** WAGE's error quantizer {@code shift(bits=k, rounding=...)}. */
    public static GradientSpec shift(int bits, RoundingMode rounding) {
        checkBits("shift", bits);
        if (rounding != RoundingMode.NEAREST_EVEN && rounding != RoundingMode.STOCHASTIC) {
            throw new IllegalArgumentException("shift rounding must be nearest_even or stochastic, got '"
                    + rounding.specName() + "'");
        }
        return new GradientSpec(Kind.SHIFT, null, bits, rounding, 0, 0);
    }

    /** WAGE's gradient operator {@code wage(bits=k, r=r)}. */
    public static GradientSpec wage(int bits, int randomBits) {
        checkBits("wage", bits);
        if (randomBits < 2 || randomBits > 24) {
            throw new IllegalArgumentException("wage r (random-number bits) must be in [2, 24], got " + randomBits);
        }
        return new GradientSpec(Kind.WAGE, null, bits, RoundingMode.STOCHASTIC, randomBits, 0);
    }

    /** TernGrad {@code terngrad(clip=c)}; c = 0 disables the clipping. */
    public static GradientSpec terngrad(double clip) {
        if (!(clip == 0 || (clip >= 0.5 && clip <= 100))) {
            throw new IllegalArgumentException("terngrad clip must be 0 (no clipping) or in [0.5, 100] standard "
                    + "deviations, got " + clip);
        }
        return new GradientSpec(Kind.TERNGRAD, null, 2, RoundingMode.STOCHASTIC, 0, clip);
    }

    private static void checkBits(String name, int bits) {
        if (bits < 2 || bits > 16) {
            throw new IllegalArgumentException(name + " bits must be in [2, 16], got " + bits);
        }
    }

    /**
     * Parses a spec string strictly: {@code float}, {@code shift(...)}, {@code wage(...)}, {@code terngrad(...)} or
     * any quantizer spec.
     *
     * @throws IllegalArgumentException naming the bad key or value and the allowed ones
     */
    @JsonCreator
    public static GradientSpec parse(String text) {
        if (text == null) {
            throw new IllegalArgumentException("gradient spec is null; examples: float, int(bits=8, rounding=stochastic), "
                    + "shift(bits=8), wage(bits=8), terngrad");
        }
        Matcher m = CALL.matcher(text);
        String name = m.matches() ? m.group(1) : "";
        if (!isOwnName(name)) {
            return of(QuantSpec.parse(text));
        }
        Map<String, String> args = args(name, m.group(2));
        switch (name) {
            case "shift" -> {
                allowOnly(name, args, "bits", "rounding");
                int bits = args.containsKey("bits") ? integer(name, "bits", args.get("bits")) : 8;
                RoundingMode r = args.containsKey("rounding") ? RoundingMode.fromSpecName(args.get("rounding"))
                        : RoundingMode.NEAREST_EVEN;
                return shift(bits, r);
            }
            case "wage" -> {
                allowOnly(name, args, "bits", "r");
                int bits = args.containsKey("bits") ? integer(name, "bits", args.get("bits")) : 8;
                int r = args.containsKey("r") ? integer(name, "r", args.get("r")) : DEFAULT_RANDOM_BITS;
                return wage(bits, r);
            }
            default -> {
                allowOnly(name, args, "clip");
                double c = args.containsKey("clip") ? number(name, "clip", args.get("clip")) : DEFAULT_TERNGRAD_CLIP;
                return terngrad(c);
            }
        }
    }

    /** True when the text names one of the gradient-only forms ({@code shift}, {@code wage}, {@code terngrad}). */
    public static boolean isGradientForm(String text) {
        if (text == null) {
            return false;
        }
        Matcher m = CALL.matcher(text);
        return m.matches() && isOwnName(m.group(1));
    }

    private static boolean isOwnName(String name) {
        return name.equals("shift") || name.equals("wage") || name.equals("terngrad");
    }

    private static Map<String, String> args(String name, String inside) {
        Map<String, String> out = new LinkedHashMap<>();
        if (inside == null || inside.isBlank()) {
            return out;
        }
        for (String part : inside.split(",", -1)) {
            int eq = part.indexOf('=');
            if (eq < 0) {
                throw new IllegalArgumentException("'" + name + "' arguments must be key=value, got '" + part.trim() + "'");
            }
            String key = part.substring(0, eq).trim();
            String value = part.substring(eq + 1).trim();
            if (out.put(key, value) != null) {
                throw new IllegalArgumentException("key '" + key + "' given twice in '" + name + "(" + inside + ")'");
            }
        }
        return out;
    }

    private static void allowOnly(String name, Map<String, String> args, String... keys) {
        List<String> allowed = List.of(keys);
        for (String k : args.keySet()) {
            if (!allowed.contains(k)) {
                throw new IllegalArgumentException("'" + name + "' has no key '" + k + "'; allowed keys: "
                        + String.join(", ", allowed));
            }
        }
    }

    private static int integer(String name, String key, String value) {
        try {
            return Integer.parseInt(value);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("value of '" + key + "' in '" + name + "' must be an integer, got '"
                    + value + "'");
        }
    }

    private static double number(String name, String key, String value) {
        try {
            double d = Double.parseDouble(value);
            if (!Double.isFinite(d)) {
                throw new NumberFormatException();
            }
            return d;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("value of '" + key + "' in '" + name + "' must be a number, got '"
                    + value + "'");
        }
    }

    private String print() {
        return switch (kind) {
            case FLOAT -> "float";
            case QUANT -> quant.toString();
            case SHIFT -> "shift(bits=" + bits + (rounding != RoundingMode.NEAREST_EVEN ? ", rounding="
                    + rounding.specName() : "") + ")";
            case WAGE -> "wage(bits=" + bits + (randomBits != DEFAULT_RANDOM_BITS ? ", r=" + randomBits : "") + ")";
            case TERNGRAD -> clip == DEFAULT_TERNGRAD_CLIP ? "terngrad" : "terngrad(clip=" + format(clip) + ")";
        };
    }

    private static String format(double d) {
        return d == Math.rint(d) ? Long.toString((long) d) : String.format(Locale.ROOT, "%s", d);
    }

    /** The canonical spec string. */
    @JsonValue
    @Override
    public String toString() {
        return canonical;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof GradientSpec g && g.canonical.equals(canonical);
    }

    @Override
    public int hashCode() {
        return canonical.hashCode();
    }

    public Kind kind() {
        return kind;
    }

    /** True for {@code float}. */
    public boolean isFloat() {
        return kind == Kind.FLOAT;
    }

    /** The quantizer spec of a {@link Kind#QUANT} form ({@link QuantSpec#FLOAT} for float), else null. */
    public QuantSpec quant() {
        return quant;
    }

    /** Bits per value (32 for float; 2 for terngrad). */
    public int bits() {
        return bits;
    }

    /** Rounding of the values (stochastic for wage and terngrad). */
    public RoundingMode rounding() {
        return rounding;
    }

    /** {@code wage}: bits of the random numbers (the grid 2^-(r-1) the scaled gradient is rounded to first). */
    public int randomBits() {
        return randomBits;
    }

    /** {@code terngrad}: clipping in standard deviations, 0 for none. */
    public double clip() {
        return clip;
    }

    /** True for the forms that only make sense on weight gradients ({@code wage}, {@code terngrad}). */
    public boolean gradientsOnly() {
        return kind == Kind.WAGE || kind == Kind.TERNGRAD;
    }

    /**
     * Checks that this spec may be used for {@code what} ({@code errors}, {@code gradients}, {@code updates} or
     * {@code optimizer_state}), throwing an {@link IllegalArgumentException} that names the allowed forms.
     */
    public GradientSpec requireAllowedFor(String what) {
        boolean ok = switch (what) {
            case "gradients" -> true;
            case "errors", "updates" -> !gradientsOnly();
            case "optimizer_state", "master_weights" -> kind == Kind.FLOAT || kind == Kind.QUANT;
            default -> throw new IllegalArgumentException("unknown path '" + what + "'; allowed: errors, gradients, "
                    + "updates, optimizer_state, master_weights");
        };
        if (!ok) {
            List<String> allowed = new ArrayList<>(List.of("float", "a quantizer spec (e.g. int8, fp8_e5m2)"));
            if (!what.equals("optimizer_state") && !what.equals("master_weights")) {
                allowed.add("shift(bits=N)");
            }
            throw new IllegalArgumentException("'" + this + "' cannot be used for " + what + " ("
                    + kind.name().toLowerCase(Locale.ROOT) + " works on weight gradients only); allowed: "
                    + String.join(", ", allowed));
        }
        return this;
    }
}
