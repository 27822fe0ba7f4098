package io.qat4j.training.model;

import io.qat4j.training.config.LayerOverride;
import io.qat4j.training.config.Precision;
import io.qat4j.training.config.QuantizationConfig;
import io.qat4j.training.config.SiteOverride;
import io.qat4j.zoo.LayerKind;

import java.util.ArrayList;
import java.util.List;

/**
 * The precision of every layer of a network, resolved from the {@code quantization} section.
 *
 * <p>Later rules win: the section's defaults, then {@code layers} entries with {@code kind: default},
 * then entries of the layer's kind, then {@code first_layer} / {@code last_layer} (the first and last
 * layers with weights), then entries naming the layer (exactly or by a glob pattern such as {@code s*_conv2}).
 * Entries of one tier apply in the order written.
 */
public final class QuantizationPlan {

    /** The resolved precisions of one layer. */
    public record LayerPrecision(String layer, LayerKind kind, Precision weights, Precision activations,
                                 Precision gradients, Precision errors) {
    }

    /** A layer of the network as the plan sees it. */
    public record LayerRef(String name, LayerKind kind) {
    }

    private QuantizationPlan() {
    }

    /** Resolves the precisions of {@code layers} (in network order). */
    public static List<LayerPrecision> resolve(QuantizationConfig q, List<LayerRef> layers) {
        int first = -1;
        int last = -1;
        for (int i = 0; i < layers.size(); i++) {
            if (layers.get(i).kind().hasWeights()) {
                if (first < 0) {
                    first = i;
                }
                last = i;
            }
        }
        List<LayerPrecision> out = new ArrayList<>();
        for (int i = 0; i < layers.size(); i++) {
            LayerRef ref = layers.get(i);
            Sites s = new Sites(q.weights(), q.activations(), q.gradients(), q.errors());
            for (LayerOverride o : q.layers()) {
                if ("default".equals(o.kind())) {
                    s.apply(o.precisions());
                }
            }
            for (LayerOverride o : q.layers()) {
                if (o.kind() != null && o.kind().equals(ref.kind().configName())) {
                    s.apply(o.precisions());
                }
            }
            if (i == first) {
                s.apply(q.firstLayer());
            }
            if (i == last) {
                s.apply(q.lastLayer());
            }
            for (LayerOverride o : q.layers()) {
                if (o.name() != null && matches(o.name(), ref.name())) {
                    s.apply(o.precisions());
                }
            }
            out.add(new LayerPrecision(ref.name(), ref.kind(), s.w, s.a, s.g, s.e));
        }
        return out;
    }

    /** Names in {@code quantization.layers} that match no layer of the network (likely typos). */
    public static List<String> unknownNames(QuantizationConfig q, List<LayerRef> layers) {
        List<String> unknown = new ArrayList<>();
        for (LayerOverride o : q.layers()) {
            if (o.name() != null && layers.stream().noneMatch(l -> matches(o.name(), l.name()))) {
                unknown.add(o.name());
            }
        }
        return unknown;
    }

    /**
     * Rejects {@code quantization.layers} entries that name no layer of the network.
     *
     * @throws io.qat4j.training.UserException naming the unknown layers and the existing ones
     */
    public static void requireKnownNames(QuantizationConfig q, List<LayerRef> layers) {
        List<String> unknown = unknownNames(q, layers);
        if (!unknown.isEmpty()) {
            throw new io.qat4j.training.UserException("quantization.layers names " + unknown
                    + ", which the network does not have; its layers are "
                    + String.join(", ", layers.stream().map(LayerRef::name).toList()));
        }
    }

    /**
     * Whether a {@code layers[].name} entry names a layer: the exact name, or a glob pattern where {@code *}
     * stands for any run of characters and {@code ?} for one (e.g. {@code s*_conv2} for the second convolution
     * of every residual block).
     */
    static boolean matches(String pattern, String name) {
        if (name == null) {
            return false;
        }
        if (pattern.indexOf('*') < 0 && pattern.indexOf('?') < 0) {
            return pattern.equals(name);
        }
        StringBuilder re = new StringBuilder();
        for (char c : pattern.toCharArray()) {
            re.append(c == '*' ? ".*" : c == '?' ? "." : java.util.regex.Pattern.quote(String.valueOf(c)));
        }
        return name.matches(re.toString());
    }

    private static final class Sites {
        Precision w;
        Precision a;
        Precision g;
        Precision e;

        Sites(Precision w, Precision a, Precision g, Precision e) {
            this.w = w;
            this.a = a;
            this.g = g;
            this.e = e;
        }

        void apply(SiteOverride o) {
            if (o == null) {
                return;
            }
            w = o.weights() != null ? o.weights() : w;
            a = o.activations() != null ? o.activations() : a;
            g = o.gradients() != null ? o.gradients() : g;
            e = o.errors() != null ? o.errors() : e;
        }
    }
}
