package io.qat4j.training.cli;

import io.qat4j.inference.format.ExportWriter;
import io.qat4j.inference.format.LayerSpec;
import io.qat4j.inference.format.Manifest;
import io.qat4j.training.UserException;
import io.qat4j.training.config.ExperimentConfig;
import io.qat4j.training.export.ExportInfo;
import io.qat4j.export.Exporter;
import io.qat4j.training.run.RunDirectory;
import io.qat4j.training.run.TrainingRun;
import io.qat4j.training.data.DataSplits;
import io.qat4j.training.model.Network;
import org.deeplearning4j.nn.api.Model;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.api.iterator.DataSetIterator;
import org.nd4j.linalg.indexing.NDArrayIndex;
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
 * {@code qat export RUN_DIR}: writes the integer export of a trained quantized model ({@code docs/export-format.md})
 * plus {@code source.json} (which run and model it came from, the accumulator width) for {@code qat simulate}.
 */
@Command(name = "export", mixinStandardHelpOptions = true,
        description = "Export a trained quantized model as integer tensors (manifest.json, .npy, C header, .mem, .coe).")
final class ExportCommand implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "RUN_DIR", description = "A run directory of 'qat train' (uses best.zip).")
    Path runDir;

    @Option(names = "--out", paramLabel = "DIR", description = "Export directory (default: RUN_DIR/export).")
    Path out;

    @Option(names = "--model", defaultValue = "best", paramLabel = "best|last",
            description = "Which model of the run (default: ${DEFAULT-VALUE}).")
    String which;

    @Option(names = "--formats", defaultValue = "npy,c,mem,coe", split = ",", paramLabel = "LIST",
            description = "Files to write besides manifest.json: npy (always), c, mem, coe (default: ${DEFAULT-VALUE}).")
    List<String> formats = new ArrayList<>();

    @Option(names = "--acc-bits", defaultValue = "32", paramLabel = "N",
            description = "Accumulator width of the target hardware, 2..32 (default: ${DEFAULT-VALUE}); recorded for "
                    + "'qat simulate', with a warning for layers that need more.")
    int accBits;

    @Option(names = "--output-bits", defaultValue = "8", paramLabel = "N",
            description = "Logit codes of the output layer: 2..16 bits, symmetric, scale = largest |logit| of the "
                    + "fake-quant model on the calibration images / (2^(N-1)-1); or 32 for int32 logits at the "
                    + "accumulator scale (default: ${DEFAULT-VALUE}).")
    int outputBits;

    @Option(names = "--rounding", defaultValue = "single", paramLabel = "single|gemmlowp",
            description = "Requantization multiplier: single (one rounding of the exact 64-bit product) or gemmlowp "
                    + "(TFLite's default two-rounding form) (default: ${DEFAULT-VALUE}).")
    String rounding;

    @Option(names = "--calibration", defaultValue = "2000", paramLabel = "N",
            description = "Training images used to calibrate the logit scale (default: ${DEFAULT-VALUE}).")
    int calibration;

    @Override
    public Integer call() throws Exception {
        if (!which.equals("best") && !which.equals("last")) {
            throw new UserException("--model " + which + " is not allowed; use best or last");
        }
        for (String f : formats) {
            if (!ExportWriter.FORMATS.contains(f)) {
                throw new UserException("--formats: '" + f + "' is not allowed; allowed: " + String.join(", ",
                        ExportWriter.FORMATS));
            }
        }
        if (accBits < 2 || accBits > 32) {
            throw new UserException("--acc-bits " + accBits + " is not allowed; allowed: 2..32");
        }
        if (outputBits != 32 && (outputBits < 2 || outputBits > 16)) {
            throw new UserException("--output-bits " + outputBits + " is not allowed; allowed: 2..16 or 32");
        }
        if (!rounding.equals("single") && !rounding.equals("gemmlowp")) {
            throw new UserException("--rounding " + rounding + " is not allowed; allowed: single, gemmlowp");
        }
        if (calibration < 1) {
            throw new UserException("--calibration " + calibration + " is not allowed; allowed: >= 1 images");
        }
        if (!Files.isDirectory(runDir)) {
            throw new UserException(runDir + " is not a directory; give a run directory of 'qat train'");
        }
        RunDirectory dir = new RunDirectory(runDir);
        Path model = which.equals("best") ? dir.bestModel() : dir.lastModel();
        if (!Files.isRegularFile(model)) {
            throw new UserException(runDir + " has no " + model.getFileName() + "; is it a run directory of 'qat train' "
                    + "that finished at least one epoch?");
        }
        String name = runDir.toAbsolutePath().normalize().getFileName().toString();
        String dataset = null;
        ExperimentConfig cfg = null;
        if (Files.isRegularFile(dir.config())) {
            cfg = ExperimentConfig.load(dir.config(), List.of());
            name = cfg.name();
            dataset = cfg.dataset().name();
        }
        Model net = Network.restore(model).model();
        Exporter.Result r;
        try {
            Exporter.OutputQuant oq = Exporter.OutputQuant.int32();
            if (outputBits != 32) {
                if (cfg == null) {
                    throw new UserException(runDir + " has no config.yaml, so there are no calibration images for the "
                            + "logit scale; use --output-bits 32");
                }
                oq = Exporter.OutputQuant.covering(outputBits, calibrationRange(net, cfg));
            }
            r = Exporter.export(net, name, Exporter.unitImageInput(Exporter.inputShape(net)), oq,
                    rounding.equals("single"));
        } catch (IllegalArgumentException e) {
            throw new UserException("cannot export " + model + ": " + e.getMessage(), e);
        }
        Path target = out == null ? runDir.resolve("export") : out;
        Manifest m = ExportWriter.write(target, r.model(), formats);
        new ExportInfo(runDir.toAbsolutePath().normalize().toString(), model.toAbsolutePath().normalize().toString(),
                dataset, accBits).write(target);

        System.out.printf(Locale.ROOT, "exported %s to %s (%s)%n", model, target, String.join(", ", m.formats()));
        System.out.printf(Locale.ROOT, "input %s: %d-bit %s, scale %.6g, zero point %d%n", m.input().shape(),
                m.input().bits(), m.input().signed() ? "signed" : "unsigned", m.input().scale(), m.input().zeroPoint());
        System.out.printf(Locale.ROOT, "%-14s %-9s %-18s %5s %11s %6s %9s%n", "layer", "op", "output", "bits", "scale",
                "zp", "acc bits");
        for (LayerSpec l : m.layers()) {
            System.out.printf(Locale.ROOT, "%-14s %-9s %-18s %5d %11.4g %6d %9s%n", l.name(), l.op(), l.output().shape(),
                    l.output().bits(), l.output().scale(), l.output().zeroPoint(),
                    l.accumulatorBits() == null ? "" : l.accumulatorBits());
            if (l.accumulatorBits() != null && l.accumulatorBits() > accBits) {
                System.out.printf(Locale.ROOT, "warning: layer %s needs %d accumulator bits in the worst case; "
                        + "--acc-bits is %d (overflow is possible; 'qat simulate' counts it)%n", l.name(),
                        l.accumulatorBits(), accBits);
            }
        }
        System.out.printf(Locale.ROOT, "output: int%d logits at scale %.6g (argmax = predicted class)%n",
                m.outputLayer().output().bits(), m.outputLayer().output().scale());
        return 0;
    }

    /** Largest |logit| of the fake-quant model over the first {@code calibration} training images (epoch-0 order). */
    private double calibrationRange(Model net, ExperimentConfig cfg) {
        DataSplits splits = TrainingRun.loadData(ExperimentConfig.load(new RunDirectory(runDir).config(),
                List.of()));
        DataSetIterator it = splits.train(500, 0);
        double max = 0;
        int seen = 0;
        while (it.hasNext() && seen < calibration) {
            INDArray x = it.next().getFeatures();
            int take = (int) Math.min(x.size(0), calibration - seen);
            if (take < x.size(0)) {
                x = x.get(NDArrayIndex.interval(0, take));
            }
            max = Math.max(max, Exporter.maxAbsLogit(net, x));
            seen += take;
        }
        System.out.printf(Locale.ROOT, "calibrated the logit range on %d training images: max |logit| %.4f%n", seen, max);
        return max;
    }
}
