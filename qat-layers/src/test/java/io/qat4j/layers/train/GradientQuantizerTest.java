package io.qat4j.layers.train;

import io.qat4j.layers.quant.NdArrays;
import io.qat4j.layers.quant.QuantSpec;
import io.qat4j.layers.quant.RoundingMode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.api.ndarray.INDArray;

import static io.qat4j.layers.TestArrays.assertValues;
import static io.qat4j.layers.TestArrays.f32;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The gradient-path spec language and each gradient quantizer against hand-computed values. */
class GradientQuantizerTest {

    static INDArray q(String spec, INDArray x, long seed, double lr) {
        return GradientQuantizer.of(GradientSpec.parse(spec), -1).quantize(x, seed, lr).output();
    }

    @ParameterizedTest
    @ValueSource(strings = {"float", "shift(bits=8)", "shift(bits=4, rounding=stochastic)", "wage(bits=8)",
            "wage(bits=8, r=12)", "terngrad", "terngrad(clip=0)", "terngrad(clip=3.5)", "int8",
            "int(bits=8, rounding=stochastic)", "fp8_e5m2", "fixed(bits=8, dynamic=true)"})
    void canonicalSpecsParseBackToThemselves(String text) {
        GradientSpec s = GradientSpec.parse(text);
        assertEquals(text, s.toString());
        assertEquals(s, GradientSpec.parse(s.toString()));
    }

    static java.util.List<String> documentedCanonicalSpecs() throws Exception {
        java.util.List<String> out = new java.util.ArrayList<>();
        boolean in = false;
        for (String line : java.nio.file.Files.readAllLines(java.nio.file.Path.of("..", "docs", "quantizers.md"))) {
            if (line.equals("```gradient-spec-canonical")) {
                in = true;
            } else if (line.startsWith("```")) {
                in = false;
            } else if (in && !line.isBlank()) {
                out.add(line.strip());
            }
        }
        assertTrue(out.size() >= 10, "the docs/quantizers.md block: " + out);
        return out;
    }

    @ParameterizedTest
    @org.junit.jupiter.params.provider.MethodSource("documentedCanonicalSpecs")
    void documentedCanonicalSpecsRoundTrip(String text) {
        assertEquals(text, GradientSpec.parse(text).toString());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "shift|shift(bits=8)", "shift( bits = 6 )|shift(bits=6)", "wage|wage(bits=8)", "wage(r=16)|wage(bits=8)",
            "terngrad(clip=2.5)|terngrad", "int(bits=8)|int8", "float()|float"})
    void accepted(String text, String canonical) {
        assertEquals(canonical, GradientSpec.parse(text).toString());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "shift(bits=1)|shift bits must be in [2, 16], got 1",
            "shift(bitz=8)|'shift' has no key 'bitz'; allowed keys: bits, rounding",
            "shift(rounding=floor)|shift rounding must be nearest_even or stochastic, got 'floor'",
            "wage(bits=8, r=40)|wage r (random-number bits) must be in [2, 24], got 40",
            "terngrad(clip=0.1)|terngrad clip must be 0 (no clipping) or in [0.5, 100]",
            "terngrad(clip=x)|value of 'clip' in 'terngrad' must be a number, got 'x'",
            "int(bits=8, observer=ema)|keep no state",
            "bogus|unknown quantizer 'bogus'"})
    void rejectedWithTheAllowedValues(String text, String message) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> GradientSpec.parse(text));
        assertTrue(e.getMessage().contains(message), e.getMessage());
    }

    @Test
    void gradientOnlyFormsAreRejectedForErrorsUpdatesAndState() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> GradientSpec.parse("terngrad").requireAllowedFor("errors"));
        assertTrue(e.getMessage().contains("cannot be used for errors") && e.getMessage().contains("shift(bits=N)"),
                e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> GradientSpec.parse("wage(bits=8)").requireAllowedFor("updates"));
        assertThrows(IllegalArgumentException.class,
                () -> GradientSpec.parse("shift(bits=8)").requireAllowedFor("optimizer_state"));
        assertEquals("shift(bits=8)", GradientSpec.parse("shift(bits=8)").requireAllowedFor("errors").toString());
    }

    @Test
    void shiftIsWageErrorQuantization() {
        // max 0.5 -> s = 2^round(log2 0.5) = 0.5; 4 bits: S = 8, codes clip to +-7.
        // x/s*S = 1.6, 8, -5.6, 0.2 -> 2, 7 (saturated), -6, 0 -> y = q * s / S.
        assertValues(new double[] {0.125, 0.4375, -0.375, 0}, q("shift(bits=4)", f32(0.1, 0.5, -0.35, 0.0125), 0, 0), 0);
        // max 0.75 -> log2 = -0.415 -> s = 1 (the power of two above): 0.75*8 = 6 exactly, nothing saturates.
        assertValues(new double[] {0.75, -0.125, 0}, q("shift(bits=4)", f32(0.75, -0.1, 0.01), 0, 0), 0);
        // max 1.3 -> log2 = 0.38 -> s = 1: 1.3 saturates at 7/8.
        GradientQuantizer.Quantized r = GradientQuantizer.of(GradientSpec.parse("shift(bits=4)"), -1)
                .quantize(f32(1.3, 0.5), 0, 0);
        assertValues(new double[] {0.875, 0.5}, r.output(), 0);
        assertTrue(r.saturated(0, 1.3) && !r.saturated(1, 0.5));
        assertValues(new double[] {0, 0}, q("shift(bits=8)", f32(0, 0), 0, 0), 0);
    }

    @Test
    void shiftMatchesTheReferenceShiftFunction() {
        // Shift(x) = 2^round(log2 x) for a range of magnitudes, against a direct double computation.
        for (double x : new double[] {1e-6, 0.0123, 0.7071, 0.7072, 1, 1.4142, 1.4143, 3, 1000}) {
            double expected = Math.pow(2, Math.round(Math.log(x) / Math.log(2)));
            assertEquals(expected, GradientQuantizer.shift(x), 0, "Shift(" + x + ")");
        }
    }

    @Test
    void wageGradientFoldsTheLearningRateAndRoundsStochastically() {
        // g = 0.3, -0.6, 0.05, 0; max 0.6 -> s = 0.5; lr 2: x' = lr g / s = 1.2, -2.4, 0.2, 0.
        INDArray g = f32(0.3, -0.6, 0.05, 0);
        double[] lo = {1, -3, 0, 0};
        double[] hi = {2, -2, 1, 0};
        for (long seed = 0; seed < 20; seed++) {
            double[] y = NdArrays.read(q("wage(bits=8)", g, seed, 2));
            for (int i = 0; i < y.length; i++) {
                double n = y[i] * 128;
                assertTrue(n == lo[i] || n == hi[i], "element " + i + " = " + n + "/128");
            }
        }
    }

    @Test
    void stochasticRoundingIsUnbiased() {
        // Mean of N draws equals the input within 5 standard errors (the largest per-draw spread of one grid step
        // is 1/2, so the standard error is at most step / (2 sqrt(N))).
        int n = 4000;
        INDArray g = f32(0.3, -0.6, 0.05, 0.013);
        double[] wage = new double[4];
        double[] tern = new double[4];
        double[] intSr = new double[4];
        for (int k = 0; k < n; k++) {
            add(wage, q("wage(bits=8)", g, k, 2));
            add(tern, q("terngrad(clip=0)", g, k, 0));
            add(intSr, q("int(bits=4, rounding=stochastic)", g, k, 0));
        }
        double[] gv = {0.3, -0.6, 0.05, 0.013};
        for (int i = 0; i < 4; i++) {
            // wage: E[y] = lr g / s / 128 = 2 g / 0.5 / 128 (r = 16 bits: the 2^-15 pre-rounding is below the tolerance)
            assertEquals(4 * gv[i] / 128, wage[i] / n, 5 * (1.0 / 128) / (2 * Math.sqrt(n)), "wage element " + i);
            // terngrad: E[y] = g, step s = 0.6
            assertEquals(gv[i], tern[i] / n, 5 * 0.6 / (2 * Math.sqrt(n)), "terngrad element " + i);
            // int4 stochastic: scale 0.6/7.5 = 0.08
            assertEquals(gv[i], intSr[i] / n, 5 * 0.08 / (2 * Math.sqrt(n)), "int4 element " + i);
        }
    }

    private static void add(double[] acc, INDArray y) {
        double[] v = NdArrays.read(y);
        for (int i = 0; i < acc.length; i++) {
            acc[i] += v[i];
        }
    }

    @Test
    void ternGradClipsAtTwoAndAHalfSigmaAndIsTernary() {
        // 19 values of 0.1 and one of 10: mean 0.595, sigma = 2.1708... -> clip 2.5 sigma = 5.427
        double[] v = new double[20];
        java.util.Arrays.fill(v, 0.1);
        v[7] = 10;
        double mean = 0.595;
        double sigma = Math.sqrt((19 * Math.pow(0.1 - mean, 2) + Math.pow(10 - mean, 2)) / 20);
        double bound = 2.5 * sigma;
        GradientQuantizer.Quantized r = GradientQuantizer.of(GradientSpec.parse("terngrad"), -1).quantize(f32(v), 3, 0);
        double[] y = NdArrays.read(r.output());
        assertEquals((float) bound, (float) y[7], 1e-5, "the outlier is clipped and then always kept (|x|/s = 1)");
        for (double yi : y) {
            assertTrue(yi == 0 || Math.abs(Math.abs(yi) - (float) bound) < 1e-5, "ternary: " + yi);
        }
        assertTrue(r.saturated(7, 10) && !r.saturated(0, 0.1));
    }

    @Test
    void quantizerSpecsAreAppliedAsWritten() {
        // int4 symmetric per tensor: scale = 0.7 / 7.5; codes round(g/scale) = 7.5 -> 8 -> 7, -3.75 -> -4, 1.07 -> 1.
        double s = (float) (0.7 / 7.5);
        assertValues(new double[] {(float) (7 * s), (float) (-4 * s), (float) s, 0}, q("int4", f32(0.7, -0.35, 0.1, 0), 0, 0),
                1e-7);
        // E5M2 keeps 2 mantissa bits: 0.3 -> 0.3125, 1e-6 -> the subnormal 2^-16 * round(1e-6 * 2^16) = 0.
        assertValues(new double[] {0.3125, 0}, q("fp8_e5m2", f32(0.3, 1e-6), 0, 0), 0);
        assertNotEquals(GradientSpec.FLOAT, GradientSpec.of(QuantSpec.parse("int8")));
        assertEquals(RoundingMode.STOCHASTIC, GradientSpec.parse("int(bits=8, rounding=stochastic)").rounding());
    }
}
