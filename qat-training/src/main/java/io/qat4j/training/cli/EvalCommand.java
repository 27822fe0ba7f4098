package io.qat4j.training.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.qat4j.training.UserException;
import io.qat4j.training.config.ExperimentConfig;
import io.qat4j.training.data.DataSplits;
import io.qat4j.training.data.DatasetKind;
import io.qat4j.training.data.DatasetOptions;
import io.qat4j.training.data.Normalization;
import io.qat4j.training.run.DataFetcher;
import io.qat4j.training.run.Evaluator;
import io.qat4j.training.run.RunDirectory;
import io.qat4j.training.run.TrainingRun;
import io.qat4j.training.model.Network;
import org.nd4j.linalg.dataset.api.iterator.DataSetIterator;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code qat eval}: accuracy, loss and confusion matrix of a trained model. */
@Command(name = "eval", mixinStandardHelpOptions = true,
        description = "Evaluate a trained model (a run directory or a model zip) on a data split.")
final class EvalCommand implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "RUN_DIR_OR_MODEL",
            description = "A run directory (uses its config.yaml and best.zip) or a ModelSerializer zip.")
    Path target;

    @Option(names = "--model", defaultValue = "best", paramLabel = "best|last",
            description = "Which model of a run directory (default: ${DEFAULT-VALUE}).")
    String which;

    @Option(names = "--data", paramLabel = "NAME", description = "Data set: mnist, fashion-mnist or cifar10 (default: the run's).")
    String data;

    @Option(names = "--data-dir", paramLabel = "DIR", description = "Data folder (default: the run's dataset.data_dir, else data).")
    Path dataDir;

    @Option(names = "--split", defaultValue = "test", paramLabel = "test|validation",
            description = "Split to evaluate (default: ${DEFAULT-VALUE}).")
    String split;

    @Option(names = "--limit", defaultValue = "0", paramLabel = "N", description = "Evaluate at most N images (0 = all).")
    long limit;

    @Option(names = "--json", description = "Print the result as JSON.")
    boolean json;

    @Override
    public Integer call() throws Exception {
        if (!which.equals("best") && !which.equals("last")) {
            throw new UserException("--model " + which + " is not allowed; use best or last");
        }
        if (!split.equals("test") && !split.equals("validation")) {
            throw new UserException("--split " + split + " is not allowed; use test or validation");
        }
        Path model;
        Path configFile;
        if (Files.isDirectory(target)) {
            RunDirectory dir = new RunDirectory(target);
            model = which.equals("best") ? dir.bestModel() : dir.lastModel();
            configFile = dir.config();
            if (!Files.isRegularFile(model)) {
                throw new UserException(target + " has no " + model.getFileName() + "; is it a run directory of 'qat train' "
                        + "that finished at least one epoch?");
            }
        } else if (Files.isRegularFile(target)) {
            model = target;
            Path sibling = target.toAbsolutePath().getParent().resolve("config.yaml");
            configFile = Files.isRegularFile(sibling) ? sibling : null;
        } else {
            throw new UserException(target + " does not exist; give a run directory or a model zip");
        }

        DataSplits splits;
        if (configFile != null) {
            List<String> overrides = new ArrayList<>();
            if (data != null) {
                overrides.add("dataset.name=" + data);
            }
            if (dataDir != null) {
                overrides.add("dataset.data_dir=" + dataDir);
            }
            // The run's own split: standardized inputs use the statistics of its training split.
            splits = TrainingRun.loadData(ExperimentConfig.load(configFile, overrides));
        } else {
            if (data == null) {
                throw new UserException(model + " has no config.yaml beside it, so the data set is unknown; add --data "
                        + "mnist, fashion-mnist or cifar10 (images are scaled to [0, 1])");
            }
            DatasetKind kind;
            try {
                kind = DatasetKind.fromName(data);
            } catch (IllegalArgumentException e) {
                throw new UserException("--data: " + e.getMessage());
            }
            Path dd = dataDir == null ? Path.of("data") : dataDir;
            DataFetcher.ensurePresent(kind, dd);
            splits = DataSplits.load(DatasetOptions.builder(kind, dd).normalization(Normalization.UNIT).build());
        }
        DataSetIterator it = split.equals("test") ? splits.test(256) : splits.validation(256);
        if (it == null) {
            throw new UserException("the run holds out no validation images (dataset.validation is 0); use --split test");
        }
        Network net = Network.restore(model);
        long t0 = System.nanoTime();
        Evaluator.Result r = Evaluator.evaluate(net, it, limit);
        double secs = (System.nanoTime() - t0) / 1e9;

        Map<String, Object> out = new LinkedHashMap<>();
        out.put("model", model.toString());
        out.put("split", split);
        out.put("examples", r.examples());
        out.put("accuracy", r.accuracy());
        out.put("loss", r.meanLoss());
        out.put("images_per_second", r.examples() / secs);
        out.put("confusion", r.confusion());
        if (json) {
            System.out.println(new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(out));
        } else {
            System.out.printf(Locale.ROOT, "%s on %s (%d images): accuracy %.2f%%, loss %.4f, %.0f img/s%n",
                    model, split, r.examples(), 100 * r.accuracy(), r.meanLoss(), r.examples() / secs);
            System.out.println("confusion matrix (rows: label, columns: prediction):");
            System.out.println(confusionTable(r.confusion()));
        }
        return 0;
    }

    static String confusionTable(long[][] c) {
        StringBuilder sb = new StringBuilder("      ");
        for (int j = 0; j < c.length; j++) {
            sb.append(String.format(Locale.ROOT, "%6d", j));
        }
        sb.append('\n');
        for (int i = 0; i < c.length; i++) {
            sb.append(String.format(Locale.ROOT, "%6d", i));
            for (long v : c[i]) {
                sb.append(String.format(Locale.ROOT, "%6d", v));
            }
            sb.append('\n');
        }
        return sb.toString();
    }
}
