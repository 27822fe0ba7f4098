package io.qat4j.training.model;

import io.qat4j.layers.nn.QuantSites;
import io.qat4j.layers.quant.QuantSpec;
import io.qat4j.layers.train.GradientSpec;
import io.qat4j.training.config.Precision;
import io.qat4j.zoo.LayerKind;
import io.qat4j.zoo.QuantPlan;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Turns the resolved precisions of each layer into quantizer specs for its sites.
 *
 * <p>A bare bit width means the usual quantizer of that site:
 * <ul>
 *   <li>weights: {@code int(bits=N, narrow=true, axis=channel)} (symmetric, per output channel);
 *       1 bit: {@code binary(scale=channel)} (XNOR-Net scaling);</li>
 *   <li>activations (a layer's output): {@code int(bits=N, signed=false, observer=ema)} after ReLU,
 *       {@code int(bits=N, observer=ema)} otherwise; 1 bit: {@code binary}.</li>
 * </ul>
 *   <li>errors (the error a layer with weights hands to the previous layer; the first such layer hands its
 *       error to no one and ignores its precision): {@code int(bits=N)}, per tensor, round to nearest; 1 bit:
 *       {@code binary(scale=tensor)};</li>
 *   <li>gradients (of weights and biases, before the updater) and updates: {@code int(bits=N, rounding=stochastic)},
 *       per tensor; 1 bit: {@code binary(scale=tensor)}.</li>
 * </ul>
 * A spec string is used as written.
 */
public final class SitePlan {
    private SitePlan() {
    }

    /** The spec of a weight site. */
    public static QuantSpec weightSpec(Precision p) {
        if (p.isFloat()) {
            return QuantSpec.FLOAT;
        }
        if (p.spec() != null) {
            return p.spec();
        }
        return QuantSpec.parse(p.bits() == 1 ? "binary(scale=channel)" : "int(bits=" + p.bits() + ", narrow=true, axis=channel)");
    }

    /** The spec of an activation site; {@code nonNegative} for activations after ReLU. */
    public static QuantSpec activationSpec(Precision p, boolean nonNegative) {
        if (p.isFloat()) {
            return QuantSpec.FLOAT;
        }
        if (p.spec() != null) {
            return p.spec();
        }
        if (p.bits() == 1) {
            return QuantSpec.parse("binary");
        }
        return QuantSpec.parse("int(bits=" + p.bits() + (nonNegative ? ", signed=false" : "") + ", observer=ema)");
    }

    /** The spec of an error site (the error a layer hands back). */
    public static GradientSpec errorSpec(Precision p) {
        return pathSpec(p, false).requireAllowedFor("errors");
    }

    /** The spec of a gradient path (weight and bias gradients before the updater). */
    public static GradientSpec gradientSpec(Precision p) {
        return pathSpec(p, true).requireAllowedFor("gradients");
    }

    /** The spec of the update path (after the updater). */
    public static GradientSpec updateSpec(Precision p) {
        return pathSpec(p, true).requireAllowedFor("updates");
    }

    private static GradientSpec pathSpec(Precision p, boolean stochastic) {
        if (p.isFloat()) {
            return GradientSpec.FLOAT;
        }
        if (p.gradient() != null) {
            return p.gradient();
        }
        if (p.spec() != null) {
            return GradientSpec.of(p.spec());
        }
        if (p.bits() == 1) {
            return GradientSpec.parse("binary(scale=tensor)");
        }
        return GradientSpec.parse("int(bits=" + p.bits() + (stochastic ? ", rounding=stochastic" : "") + ")");
    }

    /** The zoo plan for these layer precisions. */
    public static QuantPlan of(List<QuantizationPlan.LayerPrecision> precisions, boolean nonNegative) {
        return of(precisions, nonNegative, QuantSpec.FLOAT, QuantSites.DEFAULT_CHUNK);
    }

    /**
     * The zoo plan for these layer precisions, with convolution, dense and output layers accumulating their forward
     * products in {@code accumulation} (chunks of {@code chunk} products).
     */
    public static QuantPlan of(List<QuantizationPlan.LayerPrecision> precisions, boolean nonNegative,
                               QuantSpec accumulation, int chunk) {
        return of(precisions, nonNegative, accumulation, chunk, false);
    }

    /** As {@link #of(List, boolean, QuantSpec, int)}; with {@code backward} the backward products accumulate too. */
    public static QuantPlan of(List<QuantizationPlan.LayerPrecision> precisions, boolean nonNegative,
                               QuantSpec accumulation, int chunk, boolean backward) {
        Map<String, QuantizationPlan.LayerPrecision> byName = new HashMap<>();
        String firstWeighted = null;
        for (QuantizationPlan.LayerPrecision lp : precisions) {
            byName.put(lp.layer(), lp);
            if (firstWeighted == null && lp.kind().hasWeights()) {
                firstWeighted = lp.layer();
            }
        }
        String first = firstWeighted;
        return new QuantPlan() {
            @Override
            public QuantSites sites(String name, LayerKind kind) {
                return sites(name, kind, nonNegative);
            }

            @Override
            public QuantSites sites(String name, LayerKind kind, boolean nonNegativeValues) {
                QuantizationPlan.LayerPrecision lp = byName.get(name);
                if (lp == null) {
                    throw new IllegalStateException("no precision resolved for layer " + name + " (" + kind + ")");
                }
                QuantSpec w = lp.kind().hasWeights() ? weightSpec(lp.weights()) : QuantSpec.FLOAT;
                QuantSpec a = kind == LayerKind.OUTPUT ? QuantSpec.FLOAT : activationSpec(lp.activations(),
                        nonNegativeValues);
                // The first layer with weights hands its error to no one: nothing to quantize there.
                GradientSpec e = lp.kind().hasWeights() && !name.equals(first) ? errorSpec(lp.errors())
                        : GradientSpec.FLOAT;
                QuantSites sites = new QuantSites(QuantSpec.FLOAT, w, QuantSpec.FLOAT, a, e);
                if (!accumulation.isFloat() && (lp.kind() == LayerKind.CONV || lp.kind() == LayerKind.DENSE
                        || lp.kind() == LayerKind.OUTPUT)) {
                    sites = sites.withAccumulation(accumulation, chunk, backward);
                }
                return sites;
            }
        };
    }
}
