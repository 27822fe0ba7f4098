package io.qat4j.training.model;

import io.qat4j.layers.nn.QuantSites;
import io.qat4j.layers.quant.QuantSpec;
import io.qat4j.training.UserException;
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
 * A spec string is used as written. Gradient and error precisions belong to fixed-point training.
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

    /** The zoo plan for these layer precisions. */
    public static QuantPlan of(List<QuantizationPlan.LayerPrecision> precisions, boolean nonNegative) {
        Map<String, QuantSites> byName = new HashMap<>();
        for (QuantizationPlan.LayerPrecision lp : precisions) {
            if (!lp.gradients().isFloat() || !lp.errors().isFloat()) {
                throw new UserException("layer " + lp.layer() + ": gradient and error precisions (quantization.gradients / "
                        + "errors) need fixed-point training, which this release does not have yet; set them to float");
            }
            QuantSpec w = lp.kind().hasWeights() ? weightSpec(lp.weights()) : QuantSpec.FLOAT;
            QuantSpec a = activationSpec(lp.activations(), nonNegative);
            byName.put(lp.layer(), new QuantSites(QuantSpec.FLOAT, w, QuantSpec.FLOAT, a));
        }
        return (name, kind) -> {
            QuantSites s = byName.get(name);
            if (s == null) {
                throw new IllegalStateException("no precision resolved for layer " + name + " (" + kind + ")");
            }
            return kind == LayerKind.OUTPUT ? s.withOutput(QuantSpec.FLOAT) : s;
        };
    }
}
