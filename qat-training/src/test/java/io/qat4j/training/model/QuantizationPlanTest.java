package io.qat4j.training.model;

import io.qat4j.training.config.LayerOverride;
import io.qat4j.training.config.Precision;
import io.qat4j.training.config.QuantizationConfig;
import io.qat4j.training.config.SiteOverride;
import io.qat4j.zoo.LayerKind;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

class QuantizationPlanTest {
    private static final SiteOverride NONE = new SiteOverride(null, null, null, null);
    private static final List<QuantizationPlan.LayerRef> LENET = List.of(
            new QuantizationPlan.LayerRef("conv1", LayerKind.CONV), new QuantizationPlan.LayerRef("pool1", LayerKind.POOL),
            new QuantizationPlan.LayerRef("conv2", LayerKind.CONV), new QuantizationPlan.LayerRef("pool2", LayerKind.POOL),
            new QuantizationPlan.LayerRef("fc1", LayerKind.DENSE), new QuantizationPlan.LayerRef("output", LayerKind.OUTPUT));

    private static Precision p(int bits) {
        return new Precision(bits);
    }

    @Test
    void laterTiersWinInTheDocumentedOrder() {
        QuantizationConfig q = new QuantizationConfig(p(4), p(4), Precision.FLOAT, Precision.FLOAT,
                new SiteOverride(p(8), p(8), null, null), new SiteOverride(p(8), null, null, null),
                List.of(new LayerOverride("conv2", null, p(2), null, null, null),   // name: applied last
                        new LayerOverride(null, "conv", p(3), null, p(16), null),    // kind
                        new LayerOverride(null, "default", p(6), p(5), null, null)));  // fallback
        List<QuantizationPlan.LayerPrecision> r = QuantizationPlan.resolve(q, LENET);
        // conv1: default 6/5, kind conv W3 G16, first layer W8 A8
        assertEquals(List.of(p(8), p(8), p(16)), List.of(r.get(0).weights(), r.get(0).activations(), r.get(0).gradients()));
        // pool1: only the default entry applies
        assertEquals(List.of(p(6), p(5)), List.of(r.get(1).weights(), r.get(1).activations()));
        // conv2: kind conv W3, then the name entry W2
        assertEquals(List.of(p(2), p(5), p(16)), List.of(r.get(2).weights(), r.get(2).activations(), r.get(2).gradients()));
        // fc1: default entry only
        assertEquals(p(6), r.get(4).weights());
        // output: last layer W8, activations keep the default entry's 5
        assertEquals(List.of(p(8), p(5)), List.of(r.get(5).weights(), r.get(5).activations()));
        assertEquals(Precision.FLOAT, r.get(5).errors());
    }

    @Test
    void unknownLayerNamesAreFound() {
        QuantizationConfig q = new QuantizationConfig(p(8), p(8), Precision.FLOAT, Precision.FLOAT, NONE, NONE,
                List.of(new LayerOverride("conv9", null, p(2), null, null, null),
                        new LayerOverride("fc1", null, p(2), null, null, null)));
        assertEquals(List.of("conv9"), QuantizationPlan.unknownNames(q, LENET));
    }
}
