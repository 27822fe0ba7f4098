package io.qat4j.training.cli;

import io.qat4j.training.run.Progress;
import io.qat4j.training.run.TrainingRun;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code qat train CONFIG}: trains an experiment into a run directory. */
@Command(name = "train", mixinStandardHelpOptions = true,
        description = "Train the experiment described by a YAML config into a run directory.")
final class TrainCommand implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "CONFIG", description = "Experiment file, e.g. configs/mnist/lenet5-fp32.yaml")
    Path config;

    @Option(names = "--set", paramLabel = "KEY=VALUE", description = "Override a config value, e.g. --set training.epochs=3 (repeatable).")
    List<String> overrides = new ArrayList<>();

    @Option(names = "--data-dir", paramLabel = "DIR", description = "Data folder (overrides dataset.data_dir).")
    Path dataDir;

    @Option(names = "--out", paramLabel = "DIR", description = "Run directory (default runs/<config-name>-<timestamp>).")
    Path out;

    @Option(names = "--resume", description = "Continue a run from its last checkpoint (the run in --out, or the newest run of this config).")
    boolean resume;

    @Option(names = "--runs", paramLabel = "DIR", defaultValue = "runs", description = "Parent of default run directories (default: ${DEFAULT-VALUE}).")
    Path runsRoot;

    @Override
    public Integer call() {
        TrainingRun.Request req = new TrainingRun.Request(config, overrides, dataDir, out, resume, runsRoot);
        TrainingRun.Result r = TrainingRun.execute(req, Progress::forConsole, dir -> Logging.alsoTo(dir.resolve("train.log")));
        Map<String, Object> s = r.summary();
        System.out.printf("%s: test accuracy %s after %s epochs (best epoch %s), %s img/s; run directory %s%n",
                    s.get("status"), s.get("test_accuracy"), s.get("epochs"), s.get("best_epoch"),
                    s.get("train_images_per_second") == null ? "-" : String.format("%.0f", (Double) s.get("train_images_per_second")),
                r.dir().root());
        return 0;
    }
}
