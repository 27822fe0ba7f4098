package io.qat4j.training.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.qat4j.inference.engine.EngineConfig;
import io.qat4j.inference.engine.OverflowMode;
import io.qat4j.inference.format.ExportModel;
import io.qat4j.inference.format.ExportReader;
import io.qat4j.training.UserException;
import io.qat4j.training.config.ExperimentConfig;
import io.qat4j.training.data.DataSplits;
import io.qat4j.training.export.ExportInfo;
import io.qat4j.inference.Quantization;
import io.qat4j.inference.TestVectors;
import io.qat4j.inference.engine.IntegerEngine;
import io.qat4j.inference.format.ActivationSpec;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.api.DataSet;
import org.nd4j.linalg.dataset.api.iterator.DataSetIterator;
import io.qat4j.export.Exporter;
import io.qat4j.training.export.Simulator;
import io.qat4j.training.run.RunDirectory;
import io.qat4j.training.run.TrainingRun;
import io.qat4j.training.model.Network;
import org.deeplearning4j.nn.api.Model;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code qat simulate EXPORT_DIR}: runs the integer engine on the test set next to the DL4J fake-quant model the
 * export came from, and writes {@code EXPORT_DIR/simulate.json} (accuracies, top-1 agreement, output code
 * differences in LSBs, per-layer code agreement, accumulator widths and overflows, images per second).
 */
@Command(name = "simulate", mixinStandardHelpOptions = true,
        description = "Run the integer engine on an export and compare it with the fake-quant model.")
final class SimulateCommand implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "EXPORT_DIR", description = "Directory written by 'qat export'.")
    Path exportDir;

    @Option(names = "--run", paramLabel = "RUN_DIR", description = "Run directory of the model (default: the one "
            + "recorded in EXPORT_DIR/source.json).")
    Path runDir;

    @Option(names = "--data", paramLabel = "NAME", description = "Data set: mnist, fashion-mnist or cifar10 (default: the run's).")
    String data;

    @Option(names = "--data-dir", paramLabel = "DIR", description = "Data folder (default: the run's dataset.data_dir).")
    Path dataDir;

    @Option(names = "--limit", defaultValue = "0", paramLabel = "N", description = "Simulate at most N test images (0 = all).")
    long limit;

    @Option(names = "--acc-bits", paramLabel = "N", description = "Accumulator width, 2..32 (default: the export's, else 32).")
    Integer accBits;

    @Option(names = "--reference", defaultValue = "float64", paramLabel = "float64|float32",
            description = "Precision in which DL4J evaluates the fake-quant model for the comparison: float64 (the "
                    + "model's exact values; default) or float32 (as it was trained, with float32 rounding near "
                    + "quantization boundaries).")
    String reference;

    @Option(names = "--exported-biases",
            description = "Evaluate the fake-quant model with the export's int32-rounded biases instead of its trained "
                    + "float biases (shows how much of the remaining difference is bias rounding).")
    boolean exportedBiases;

    @Option(names = "--dump-vectors", defaultValue = "0", paramLabel = "N",
            description = "Also write test vectors for the first N test images to EXPORT_DIR/vectors: the integer "
                    + "input and every layer's integer output as .npy and .mem (default: none).")
    int dumpVectors;

    @Option(names = "--overflow", paramLabel = "wrap|saturate",
            description = "Narrow-accumulator overflow behavior (default: wrap).")
    String overflow;

    @Option(names = "--engine", paramLabel = "fast|reference",
            description = "Integer engine: fast (batched, multi-threaded, the same output codes) or reference (one "
                    + "image at a time, with accumulator statistics: additions, overflows, widths seen). Default: "
                    + "reference when statistics matter (accumulators narrower than 32 bits, --overflow, "
                    + "--dump-vectors), fast otherwise.")
    String engine;

    @Override
    public Integer call() throws Exception {
        if (!Files.isRegularFile(exportDir.resolve(ExportReader.MANIFEST))) {
            throw new UserException(exportDir + " has no " + ExportReader.MANIFEST + "; give a directory written by 'qat export'");
        }
        if (!reference.equals("float64") && !reference.equals("float32")) {
            throw new UserException("--reference " + reference + " is not allowed; allowed: float64, float32");
        }
        if (dumpVectors < 0) {
            throw new UserException("--dump-vectors " + dumpVectors + " is not allowed; use 0 (none) or a positive number");
        }
        if (limit < 0) {
            throw new UserException("--limit " + limit + " is not allowed; use 0 (all) or a positive number");
        }
        OverflowMode mode;
        try {
            mode = OverflowMode.fromName(overflow == null ? "wrap" : overflow);
        } catch (IllegalArgumentException e) {
            throw new UserException("--overflow: " + e.getMessage());
        }
        ExportInfo info = ExportInfo.read(exportDir);
        int bits = accBits != null ? accBits : info != null ? info.accumulatorBits() : 32;
        if (bits < 2 || bits > 32) {
            throw new UserException("--acc-bits " + bits + " is not allowed; allowed: 2..32");
        }
        if (engine == null) {
            engine = bits < 32 || overflow != null || dumpVectors > 0 ? "reference" : "fast";
        } else if (!engine.equals("fast") && !engine.equals("reference")) {
            throw new UserException("--engine " + engine + " is not allowed; allowed: fast, reference");
        }
        Path run = runDir != null ? runDir : info != null && info.runDir() != null ? Path.of(info.runDir()) : null;
        if (run == null) {
            throw new UserException(exportDir + " does not record its run directory (no " + ExportInfo.FILE
                    + "); add --run RUN_DIR");
        }
        RunDirectory dir = new RunDirectory(run);
        Path model = runDir == null && info != null && info.model() != null ? Path.of(info.model()) : dir.bestModel();
        if (!Files.isRegularFile(model)) {
            throw new UserException("model " + model + " does not exist; add --run RUN_DIR");
        }
        if (!Files.isRegularFile(dir.config())) {
            throw new UserException(run + " has no config.yaml, so the data set is unknown; give a run directory of 'qat train'");
        }
        List<String> overrides = new ArrayList<>();
        if (data != null) {
            overrides.add("dataset.name=" + data);
        }
        if (dataDir != null) {
            overrides.add("dataset.data_dir=" + dataDir);
        }
        DataSplits splits = TrainingRun.loadData(ExperimentConfig.load(dir.config(), overrides));

        ExportModel export;
        try {
            export = ExportReader.read(exportDir);
        } catch (IllegalArgumentException e) {
            throw new UserException("cannot read export " + exportDir + ": " + e.getMessage(), e);
        }
        Network network = Network.restore(model);
        if (reference.equals("float64")) {
            network = network.convertDataType(org.nd4j.linalg.api.buffer.DataType.DOUBLE);
        }
        Model net = network.model();
        if (exportedBiases) {
            System.out.println("fake-quant model with the exported int32 biases of: "
                    + Simulator.useExportedBiases(export, net));
        }
        Exporter.Result ref;
        try {
            ActivationSpec o = export.manifest().outputLayer().output();
            ref = Exporter.export(net, export.manifest().model(), o.bits() == 32
                    ? Exporter.OutputQuant.int32() : new Exporter.OutputQuant(o.bits(), o.scale()));
        } catch (IllegalArgumentException e) {
            throw new UserException("model " + model + " cannot be compared with the export: " + e.getMessage(), e);
        }
        Simulator.Report r = Simulator.run(export, net, ref.dl4jSources(), splits.test(256), limit,
                new EngineConfig(bits, mode), engine.equals("fast"));
        new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT)
                .writeValue(exportDir.resolve("simulate.json").toFile(), r);

        System.out.printf(Locale.ROOT, "%s vs %s (%s) on %d test images (%s engine, accumulators %d bits, %s):%n",
                exportDir, model, reference, r.examples(), r.engine(), r.accumulatorBits(), r.overflow());
        System.out.printf(Locale.ROOT, "  engine accuracy       %.2f%%%n", 100 * r.engineAccuracy());
        System.out.printf(Locale.ROOT, "  fake-quant accuracy   %.2f%%%n", 100 * r.fakeQuantAccuracy());
        System.out.printf(Locale.ROOT, "  top-1 agreement       %.3f%%%n", 100 * r.top1Agreement());
        System.out.printf(Locale.ROOT, "  output codes (int%d logits, scale %.4g): max |diff| %d LSB, mean %.4f LSB, "
                + "within 1 LSB %.3f%%, identical %.3f%%%n", r.outputBits(), r.outputScale(), r.outputMaxAbsDiffLsb(),
                r.outputMeanAbsDiffLsb(), 100 * r.outputWithin1LsbFraction(), 100 * r.outputIdenticalFraction());
        System.out.printf(Locale.ROOT, "  engine speed          %.0f images/s%n", r.engineImagesPerSecond());
        System.out.printf(Locale.ROOT, "  %-12s %-9s %-12s %10s %10s %8s %10s%n", "layer", "op", "vs DL4J", "identical",
                "<=1 LSB", "max LSB", "mean LSB");
        for (Simulator.LayerAgreement l : r.layers()) {
            System.out.printf(Locale.ROOT, "  %-12s %-9s %-12s %9.4f%% %9.4f%% %8d %10.5f%n", l.name(), l.op(),
                    l.comparedWith(), 100 * l.identicalFraction(), 100 * l.within1LsbFraction(), l.maxAbsDiffLsb(),
                    l.meanAbsDiffLsb());
        }
        if (r.engine().equals("fast")) {
            System.out.println("  accumulator statistics: collected by the reference engine only (--engine reference)");
        } else {
            System.out.printf(Locale.ROOT, "  %-12s %-9s %14s %10s %10s %10s%n", "layer", "op", "additions",
                    "overflows", "bits seen", "needed");
        }
        for (Simulator.Accumulators a : r.accumulators()) {
            System.out.printf(Locale.ROOT, "  %-12s %-9s %14d %10d %10d %10d%n", a.name(), a.op(), a.additions(),
                    a.overflows(), a.bitsSeen(), a.bitsNeeded());
        }
        System.out.println("wrote " + exportDir.resolve("simulate.json"));
        if (dumpVectors > 0) {
            List<int[]> inputs = new ArrayList<>();
            List<Integer> labels = new ArrayList<>();
            DataSetIterator it = splits.test(256);
            while (it.hasNext() && inputs.size() < dumpVectors) {
                DataSet ds = it.next();
                INDArray x = ds.getFeatures();
                int batch = (int) x.size(0);
                float[][] xs = x.reshape('c', batch, x.length() / batch).toFloatMatrix();
                long[] y = ds.getLabels().argMax(1).toLongVector();
                for (int b = 0; b < batch && inputs.size() < dumpVectors; b++) {
                    inputs.add(Quantization.quantizeInput(xs[b], export.manifest().input()));
                    labels.add((int) y[b]);
                }
            }
            Path vectors = exportDir.resolve("vectors");
            TestVectors.write(vectors, new IntegerEngine(export, new EngineConfig(bits, mode)), inputs,
                    labels.stream().mapToInt(Integer::intValue).toArray());
            System.out.println("wrote test vectors of " + inputs.size() + " test images to " + vectors);
        }
        return 0;
    }
}
