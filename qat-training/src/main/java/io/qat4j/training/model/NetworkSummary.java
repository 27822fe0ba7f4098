package io.qat4j.training.model;

import io.qat4j.training.config.Precision;
import io.qat4j.zoo.LayerKind;
import io.qat4j.zoo.NetConf;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.FeedForwardLayer;
import org.deeplearning4j.nn.conf.layers.Layer;

import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The per-layer table of {@code qat summary}: type, output shape, parameters, multiply-accumulates
 * per image, weight / activation precision and parameter memory at that precision.
 */
public final class NetworkSummary {

    /** One row of the table. */
    public record Row(String name, String type, String outputShape, long params, long weightParams, long macs,
                      Precision weightBits, Precision activationBits, long memoryBits) {
    }

    private final List<Row> rows;

    private NetworkSummary(List<Row> rows) {
        this.rows = rows;
    }

    public List<Row> rows() {
        return rows;
    }

    /**
     * Builds the table for a configuration whose input is {@code input}.
     * Weight parameters ({@code W}) are counted at the layer's weight precision, every other
     * parameter (biases, normalization statistics) at 32 bits.
     */
    public static NetworkSummary of(NetConf conf, InputType input, List<QuantizationPlan.LayerPrecision> plan) {
        Network net = Network.create(conf.copy());
        List<Layer> layers = conf.layers();
        List<InputType> types = new ArrayList<>();
        if (conf instanceof NetConf.Graph g) {
            Map<String, InputType> byName = g.conf().getLayerActivationTypes(input);
            layers.forEach(l -> types.add(byName.get(l.getLayerName())));
        } else {
            types.addAll(((NetConf.Stack) conf).conf().getLayerActivationTypes(input));
        }
        List<Row> rows = new ArrayList<>();
        InputType in = input;
        for (int i = 0; i < layers.size(); i++) {
            Layer l = layers.get(i);
            InputType out = types.get(i);
            long params = 0;
            long weightParams = 0;
            for (Map.Entry<String, INDArray> p : net.layer(l.getLayerName()).paramTable().entrySet()) {
                params += p.getValue().length();
                if (p.getKey().equals("W")) {
                    weightParams += p.getValue().length();
                }
            }
            LayerKind kind = LayerKind.of(l);
            QuantizationPlan.LayerPrecision prec = plan.get(i);
            Precision wBits = kind.hasWeights() ? prec.weights() : null;
            long memBits = weightParams * (wBits == null ? 32 : wBits.bits()) + (params - weightParams) * 32L;
            // The precision a layer quantizes its output with, as built (null where it quantizes nothing: LeNet's
            // conv1 is quantized after the pool, at pool1_act; batch normalization before an activation layer).
            Precision aBits = null;
            if (l instanceof io.qat4j.layers.nn.QuantLayer q && !(l instanceof org.deeplearning4j.nn.conf.layers.BaseOutputLayer)
                    && !q.getQuantSites().output().isFloat()) {
                io.qat4j.layers.quant.QuantSpec spec = q.getQuantSites().output();
                aBits = new Precision(spec.kind() == io.qat4j.layers.quant.QuantKind.BINARY ? 1 : spec.bits());
            }
            rows.add(new Row(l.getLayerName(), l.getClass().getSimpleName(), shape(out), params, weightParams,
                    macs(l, in, out), wBits, aBits, memBits));
            in = out;
        }
        return new NetworkSummary(rows);
    }

    static long macs(Layer l, InputType in, InputType out) {
        if (l instanceof ConvolutionLayer c && out instanceof InputType.InputTypeConvolutional o) {
            long k = (long) c.getKernelSize()[0] * c.getKernelSize()[1];
            long positions = o.getHeight() * o.getWidth();
            if (l instanceof org.deeplearning4j.nn.conf.layers.DepthwiseConvolution2D) {
                return o.getChannels() * positions * k; // one k x k filter per output channel
            }
            if (l instanceof org.deeplearning4j.nn.conf.layers.SeparableConvolution2D s) {
                long mid = c.getNIn() * s.getDepthMultiplier();
                return mid * positions * k + o.getChannels() * positions * mid;
            }
            return o.getChannels() * positions * c.getNIn() * k;
        }
        if (l instanceof io.qat4j.layers.nn.QuantActivation) {
            return 0;
        }
        if (l instanceof BatchNormalization || l instanceof io.qat4j.layers.nn.DeviationBatchNorm) {
            return out.arrayElementsPerExample();
        }
        if (l instanceof FeedForwardLayer f) {
            return f.getNIn() * f.getNOut();
        }
        return 0;
    }

    static String shape(InputType t) {
        if (t instanceof InputType.InputTypeConvolutional c) {
            return c.getChannels() + "x" + c.getHeight() + "x" + c.getWidth();
        }
        if (t instanceof InputType.InputTypeConvolutionalFlat c) {
            return c.getDepth() + "x" + c.getHeight() + "x" + c.getWidth();
        }
        return Long.toString(t.arrayElementsPerExample());
    }

    /** Total parameters. */
    public long totalParams() {
        return rows.stream().mapToLong(Row::params).sum();
    }

    /** Total multiply-accumulates per image. */
    public long totalMacs() {
        return rows.stream().mapToLong(Row::macs).sum();
    }

    /** Total parameter memory in bits at the planned precisions. */
    public long totalMemoryBits() {
        return rows.stream().mapToLong(Row::memoryBits).sum();
    }

    /** The table as text. */
    public String render(String title) {
        StringBuilder sb = new StringBuilder(title).append('\n');
        int nameWidth = Math.max(8, rows.stream().mapToInt(r -> r.name().length()).max().orElse(0));
        String fmt = "%-" + nameWidth + "s %-20s %-10s %10s %12s %6s %6s %12s%n";
        String rule = "-".repeat(83 + nameWidth) + '\n';
        sb.append(String.format(Locale.ROOT, fmt, "layer", "type", "output", "params", "MACs", "W", "A", "memory"));
        sb.append(rule);
        for (Row r : rows) {
            sb.append(String.format(Locale.ROOT, fmt, r.name(), r.type(), r.outputShape(), group(r.params()),
                    group(r.macs()), r.weightBits() == null ? "-" : r.weightBits(),
                    r.activationBits() == null ? "-" : r.activationBits(), bytes(r.memoryBits())));
        }
        sb.append(rule);
        sb.append(String.format(Locale.ROOT, fmt, "total", "", "", group(totalParams()), group(totalMacs()), "", "",
                bytes(totalMemoryBits())));
        sb.append(String.format(Locale.ROOT, "float32 parameter memory: %s; at the planned precisions: %s (%.1fx smaller)%n",
                bytes(totalParams() * 32), bytes(totalMemoryBits()), totalParams() * 32.0 / Math.max(1, totalMemoryBits())));
        return sb.toString();
    }

    static String group(long v) {
        return String.format(Locale.ROOT, "%,d", v);
    }

    static String bytes(long bits) {
        double b = bits / 8.0;
        if (b < 1024) {
            return String.format(Locale.ROOT, "%.0f B", b);
        }
        if (b < 1024 * 1024) {
            return String.format(Locale.ROOT, "%.1f KiB", b / 1024);
        }
        return String.format(Locale.ROOT, "%.2f MiB", b / (1024 * 1024));
    }
}
