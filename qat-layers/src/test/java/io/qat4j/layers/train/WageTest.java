package io.qat4j.layers.train;

import io.qat4j.layers.quant.NdArrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import static io.qat4j.layers.TestArrays.assertValues;
import static io.qat4j.layers.TestArrays.f32;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** WAGE's layer scale, initialization and scaled activation against the reference code's numbers. */
class WageTest {

    /** The reference code's MNIST log prints Scale 2, 16, 16, 8 for these fan-ins with 2-bit weights. */
    @ParameterizedTest
    @CsvSource({"25, 2", "800, 16", "1024, 16", "512, 8"})
    void layerScaleOfTheReferenceLeNet(double fanIn, double alpha) {
        assertEquals(alpha, Wage.alpha(2, fanIn), 0);
    }

    @Test
    void scaleNeverDropsBelowOneAndGrowsWithFanIn() {
        // W_m = 1.5 / 2^7 for 8-bit weights: sqrt(3/25) = 0.35 > W_m -> ratio < 1 -> alpha 1
        assertEquals(1, Wage.alpha(8, 25), 0);
        assertEquals(0.75, Wage.wm(2), 0);
        assertEquals(0.75, Wage.initLimit(2, 800), 0, "W_m wins over sqrt(3/800) = 0.061");
        assertEquals(Math.sqrt(3.0 / 25), Wage.initLimit(8, 25), 1e-15);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Wage.alpha(1, 25));
        assertTrue(e.getMessage().contains("[2, 16]"), e.getMessage());
    }

    @Test
    void initializationIsUniformThenRoundedToTheWeightGrid() {
        Nd4j.getRandom().setSeed(11);
        INDArray view = Nd4j.zeros(DataType.FLOAT, 1, 60_000);
        new WageWeightInit(2).init(800, 64, new long[] {64, 32, 5, 5}, 'c', view.get(
                org.nd4j.linalg.indexing.NDArrayIndex.all(), org.nd4j.linalg.indexing.NDArrayIndex.interval(0, 51_200)));
        double[] w = NdArrays.read(view);
        int zeros = 0;
        int n = 51_200;
        for (int i = 0; i < n; i++) {
            assertTrue(w[i] == 0 || Math.abs(w[i]) == 0.5 || Math.abs(w[i]) == 1, "grid 1/2: " + w[i]);
            zeros += w[i] == 0 ? 1 : 0;
        }
        // U(-0.75, 0.75) rounded to halves: P(0) = P(|w| < 0.25) = 1/3 (4 standard errors: 0.0083)
        assertEquals(1.0 / 3, (double) zeros / n, 0.0083);
        for (int i = n; i < w.length; i++) {
            assertEquals(0, w[i], 0, "outside the parameter view");
        }
    }

    @Test
    void scaledActivationScalesBothDirections() {
        ScaledActivation a = new ScaledActivation(Activation.RELU.getActivationFunction(), 1.0 / 16);
        assertValues(new double[] {0, 0.125, 1}, a.getActivation(f32(-3, 2, 16), true), 0);
        Pair<INDArray, INDArray> p = a.backprop(f32(-3, 2, 16), f32(1, 1, 32));
        assertValues(new double[] {0, 1.0 / 16, 2}, p.getFirst(), 0);
        assertThrows(IllegalArgumentException.class, () -> new ScaledActivation(null, 1));
        assertThrows(IllegalArgumentException.class,
                () -> new ScaledActivation(Activation.RELU.getActivationFunction(), 0));
    }
}
