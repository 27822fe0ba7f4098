package io.qat4j.training.cli;

import io.qat4j.inference.format.ExportWriter;
import io.qat4j.inference.format.LayerSpec;
import io.qat4j.inference.format.Manifest;
import io.qat4j.training.UserException;
import io.qat4j.training.config.ExperimentConfig;
import io.qat4j.training.export.ExportInfo;
import io.qat4j.training.export.Exporter;
import io.qat4j.training.run.RunDirectory;
import io.qat4j.training.run.TrainingRun;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
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
        if (Files.isRegularFile(dir.config())) {
            ExperimentConfig cfg = ExperimentConfig.load(dir.config(), List.of());
            name = cfg.name();
            dataset = cfg.dataset().name();
        }
        MultiLayerNetwork net = TrainingRun.restoreModel(model);
        Exporter.Result r;
        try {
            r = Exporter.export(net, name);
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
        System.out.println("output: int32 logits at scale " + String.format(Locale.ROOT, "%.6g", m.outputLayer().output().scale())
                + " (argmax = predicted class)");
        return 0;
    }
}
