package io.qat4j.training.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.qat4j.layers.quant.QuantContext;
import io.qat4j.layers.quant.QuantResult;
import io.qat4j.layers.quant.QuantSpec;
import io.qat4j.layers.quant.Quantizers;
import io.qat4j.training.UserException;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code qat quantize}: applies a quantizer spec to a float32 {@code .npy} tensor, for exploring
 * quantizers and for checking the maths from outside Java (numpy, PyTorch).
 */
@Command(name = "quantize", mixinStandardHelpOptions = true,
        description = "Apply a quantizer spec to a float32 .npy tensor; print scales and zero points as JSON.")
final class QuantizeCommand implements Callable<Integer> {

    @Option(names = "--spec", required = true, paramLabel = "SPEC", description = "Quantizer spec, e.g. int8 or int(bits=4, axis=channel) (docs/quantizers.md).")
    String spec;

    @Option(names = "--in", required = true, paramLabel = "FILE", description = "Input tensor (.npy, float32).")
    Path in;

    @Option(names = "--out", required = true, paramLabel = "FILE", description = "Fake-quantized tensor (.npy, float32).")
    Path out;

    @Option(names = "--codes", paramLabel = "FILE", description = "Also write the integer codes (.npy, int32), where the quantizer has codes.")
    Path codes;

    @Option(names = "--channel-axis", defaultValue = "0", paramLabel = "AXIS",
            description = "The axis that axis=channel refers to (default: ${DEFAULT-VALUE}, as for conv weights [nOut,nIn,kH,kW]).")
    int channelAxis;

    @Option(names = "--range", split = ",", paramLabel = "MIN,MAX",
            description = "Use this observed range instead of the tensor's own (per-tensor specs).")
    double[] range;

    @Option(names = "--seed", defaultValue = "0", description = "Seed of stochastic rounding (default: ${DEFAULT-VALUE}).")
    long seed;

    @Override
    public Integer call() throws Exception {
        QuantSpec s;
        try {
            s = QuantSpec.parse(spec);
        } catch (IllegalArgumentException e) {
            throw new UserException("--spec " + spec + ": " + e.getMessage());
        }
        if (!Files.isRegularFile(in)) {
            throw new UserException("--in " + in + " does not exist");
        }
        INDArray x;
        try {
            x = Nd4j.createFromNpyFile(in.toFile());
        } catch (RuntimeException e) {
            throw new UserException("--in " + in + " is not a readable .npy file: " + e.getMessage());
        }
        if (x.dataType() != DataType.FLOAT) {
            throw new UserException("--in " + in + " holds " + x.dataType() + " values; qat quantize reads float32 "
                    + "(numpy: x.astype(np.float32))");
        }
        if (channelAxis < 0 || channelAxis >= Math.max(1, x.rank())) {
            throw new UserException("--channel-axis " + channelAxis + " is out of range for a tensor of rank " + x.rank());
        }
        QuantContext ctx = new QuantContext(channelAxis, null, null, seed, false);
        if (range != null) {
            if (range.length != 2 || !(range[0] <= range[1])) {
                throw new UserException("--range takes MIN,MAX with MIN <= MAX");
            }
            ctx = ctx.withRange(Nd4j.scalar(DataType.FLOAT, range[0]).reshape(1), Nd4j.scalar(DataType.FLOAT, range[1]).reshape(1));
        }
        QuantResult r;
        try {
            r = Quantizers.of(s).forward(x, ctx);
        } catch (IllegalArgumentException e) {
            throw new UserException(e.getMessage());
        }
        write(r.output(), out);
        if (codes != null) {
            if (r.codes() == null) {
                throw new UserException("spec " + s + " has no integer codes (float and minifloat values are their own codes)");
            }
            write(r.codes().castTo(DataType.INT32), codes);
        }
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("spec", s.toString());
        json.put("shape", x.shape());
        json.put("scale", r.scale() == null ? null : r.scale().toDoubleVector());
        json.put("zero_point", r.zeroPoint() == null ? null : r.zeroPoint().toDoubleVector());
        System.out.println(new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(json));
        return 0;
    }

    private static void write(INDArray a, Path file) throws Exception {
        File f = file.toFile();
        if (f.getAbsoluteFile().getParentFile() != null) {
            Files.createDirectories(f.getAbsoluteFile().getParentFile().toPath());
        }
        Nd4j.writeAsNumpy(a, f);
    }
}
