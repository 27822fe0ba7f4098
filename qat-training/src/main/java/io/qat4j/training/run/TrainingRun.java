package io.qat4j.training.run;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.qat4j.training.UserException;
import io.qat4j.training.config.DatasetConfig;
import io.qat4j.training.config.ExperimentConfig;
import io.qat4j.training.data.DataSplits;
import io.qat4j.training.data.DatasetKind;
import io.qat4j.training.data.DatasetOptions;
import io.qat4j.training.data.Normalization;
import io.qat4j.training.model.ModelFactory;
import io.qat4j.training.model.QuantizationPlan;
import io.qat4j.training.model.Network;
import io.qat4j.zoo.NetConf;

import org.deeplearning4j.util.ModelSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.function.IntFunction;
import java.util.stream.Stream;

/**
 * One {@code qat train} invocation: resolves the configuration and the run directory, loads the data,
 * builds or restores the network, trains, and writes {@code summary.json}.
 */
public final class TrainingRun {
    private static final Logger LOG = LoggerFactory.getLogger(TrainingRun.class);
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    private static final DateTimeFormatter STAMP = DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss");

    /**
     * What to run.
     *
     * @param config    the experiment file
     * @param overrides {@code key.path=value} overrides
     * @param dataDir   overrides {@code dataset.data_dir} when not null
     * @param out       the run directory; null picks {@code runs/<name>-<timestamp>} (or, with resume, the
     *                  newest unfinished run of that name)
     * @param resume    continue the run in {@code out} from its last checkpoint
     * @param runsRoot  where default run directories go (normally {@code runs})
     */
    public record Request(Path config, List<String> overrides, Path dataDir, Path out, boolean resume, Path runsRoot) {
    }

    /** Where the run went and how it ended. */
    public record Result(RunDirectory dir, Map<String, Object> summary) {
    }

    private TrainingRun() {
    }

    /** Runs the request; {@code onRunDir} is told the run directory as soon as it is known (log file set-up). */
    public static Result execute(Request req, IntFunction<Progress> progressFactory, Consumer<Path> onRunDir) {
        List<String> overrides = new ArrayList<>(req.overrides());
        if (req.dataDir() != null) {
            overrides.add("dataset.data_dir=" + req.dataDir());
        }
        ExperimentConfig requested = ExperimentConfig.load(req.config(), overrides);
        RunDirectory dir = chooseDirectory(req, requested.name());

        ExperimentConfig cfg = requested;
        RunState state = new RunState();
        boolean restore = false;
        if (req.resume() && Files.isRegularFile(dir.config())) {
            // The run's own resolved config is the reference; --set may still change it (e.g. more epochs).
            cfg = ExperimentConfig.load(dir.config(), overrides);
            if (!cfg.resolved().equals(requested.resolved())) {
                LOG.warn("{} differs from the configuration saved in {}; resuming with the saved one", req.config(), dir.config());
            }
            if (Files.isRegularFile(dir.checkpointState())) {
                state = RunState.load(dir.checkpointState());
                restore = true;
            }
        }
        NetConf conf = ModelFactory.build(cfg);
        QuantizationPlan.requireKnownNames(cfg.quantization(), ModelFactory.layerRefs(conf));
        DataSplits data = loadData(cfg);

        // Only a run that can start gets a directory.
        mkdirs(dir);
        onRunDir.accept(dir.root());
        AtomicFiles.writeString(dir.config(), cfg.toYaml());
        Network net;
        if (restore) {
            Path ckpt = dir.root().resolve(state.checkpointModel);
            net = Network.restore(ckpt);
            LOG.info("resuming {} after epoch {} from {}", dir.root(), state.epochsCompleted, ckpt);
        } else {
            net = Network.create(conf);
            if (cfg.initFrom() != null) {
                initFrom(net, Path.of(cfg.initFrom()));
            }
            // Low-precision stored weights start on their grid (fixed-point training).
            io.qat4j.layers.train.FixedPointTraining.initialize(net.model());
            LOG.info("run {}: {} on {} ({} parameters), {} epochs, writing to {}", cfg.name(), cfg.model().name(),
                    cfg.dataset().name(), net.numParams(), cfg.training().epochs(), dir.root());
        }
        for (org.deeplearning4j.optimize.api.TrainingListener l : ModelFactory.listeners(cfg)) {
            net.addListener(l);
            LOG.info("phase switch: {}", l);
        }
        LOG.info("data: {} training, {} validation, {} test images", data.trainSize(), data.validationSize(), data.testSize());

        Trainer.Outcome outcome;
        try (Progress progress = progressFactory.apply(cfg.training().logEvery())) {
            outcome = new Trainer(cfg.name(), dir, cfg.training(), data, progress).train(net, state);
        } catch (DivergedException e) {
            writeSummary(dir, cfg, state, net, data, "diverged");
            throw e;
        }
        Map<String, Object> summary = writeSummary(dir, cfg, state, net, data,
                outcome == Trainer.Outcome.EARLY_STOPPED ? "early-stopped" : "completed");
        return new Result(dir, summary);
    }

    /** Loads the data sets named by a config (fetching MNIST / Fashion-MNIST when missing). */
    public static DataSplits loadData(ExperimentConfig cfg) {
        DatasetConfig d = cfg.dataset();
        DatasetKind kind = DatasetKind.fromName(d.name());
        Path dataDir = Path.of(d.dataDir());
        DataFetcher.ensurePresent(kind, dataDir);
        DatasetOptions opts = DatasetOptions.builder(kind, dataDir)
                .normalization(Normalization.fromName(d.normalization()))
                .validationSize(d.validation())
                .trainSubset(d.subset())
                .testSubset(d.testSubset())
                .seed(cfg.training().seed())
                .augment(d.augment())
                .build();
        return DataSplits.load(opts);
    }

    /**
     * Copies the parameters of a trained model into {@code net}, layer by layer (matched by name) and
     * key by key, so a float model can start a quantized twin (whose extra observer state starts empty).
     * Learned quantizer parameters are copied when the trained model has them (same key and shape) and
     * otherwise keep their initialization (most are set from the first batch).
     */
    private static void initFrom(Network net, Path model) {
        if (!Files.isRegularFile(model)) {
            throw new UserException("init_from: " + model + " does not exist; give the best.zip or last.zip of a finished run");
        }
        Network src = Network.restore(model);
        Map<String, org.deeplearning4j.nn.api.Layer> byName = new LinkedHashMap<>();
        for (org.deeplearning4j.nn.api.Layer l : src.layers()) {
            byName.put(l.conf().getLayer().getLayerName(), l);
        }
        int copied = 0;
        for (org.deeplearning4j.nn.api.Layer dst : net.layers()) {
            String name = dst.conf().getLayer().getLayerName();
            org.deeplearning4j.nn.api.Layer s = byName.get(name);
            for (Map.Entry<String, org.nd4j.linalg.api.ndarray.INDArray> p : dst.paramTable().entrySet()) {
                if (io.qat4j.layers.nn.QuantParamInitializer.isStateKey(p.getKey())) {
                    continue;
                }
                org.nd4j.linalg.api.ndarray.INDArray v = s == null ? null : s.paramTable().get(p.getKey());
                if (io.qat4j.layers.nn.QuantParamInitializer.learnedSpec(dst.conf().getLayer(), p.getKey()) != null
                        && (v == null || !java.util.Arrays.equals(v.shape(), p.getValue().shape()))) {
                    continue;
                }
                if (v == null || !java.util.Arrays.equals(v.shape(), p.getValue().shape())) {
                    throw new UserException("init_from: " + model + " has no parameter " + p.getKey() + " of shape "
                            + java.util.Arrays.toString(p.getValue().shape()) + " for layer " + name
                            + "; the two networks must have the same layers");
                }
                p.getValue().assign(v);
                copied++;
            }
        }
        LOG.info("initialized {} parameter arrays from {}", copied, model);
    }

    private static RunDirectory chooseDirectory(Request req, String name) {
        if (req.out() != null) {
            RunDirectory dir = new RunDirectory(req.out());
            if (!req.resume() && Files.exists(dir.checkpointState())) {
                throw new UserException("run directory " + req.out() + " already holds a run (" + dir.checkpointState()
                        + " exists); add --resume to continue it, or choose another --out");
            }
            if (req.resume() && !Files.isDirectory(req.out())) {
                throw new UserException("--resume: run directory " + req.out() + " does not exist");
            }
            return dir;
        }
        if (req.resume()) {
            Optional<Path> latest = latestRun(req.runsRoot(), name);
            if (latest.isEmpty()) {
                throw new UserException("--resume: no run of '" + name + "' found under " + req.runsRoot()
                        + " (looked for folders named " + name + "-<timestamp>); name the run folder with --out");
            }
            return new RunDirectory(latest.get());
        }
        Path root = req.runsRoot().resolve(name + "-" + LocalDateTime.now().format(STAMP));
        for (int i = 2; Files.exists(root); i++) {
            root = req.runsRoot().resolve(name + "-" + LocalDateTime.now().format(STAMP) + "-" + i);
        }
        return new RunDirectory(root);
    }

    private static Optional<Path> latestRun(Path runsRoot, String name) {
        if (!Files.isDirectory(runsRoot)) {
            return Optional.empty();
        }
        try (Stream<Path> s = Files.list(runsRoot)) {
            return s.filter(Files::isDirectory)
                    .filter(p -> p.getFileName().toString().matches(java.util.regex.Pattern.quote(name) + "-\\d{8}-\\d{6}(-\\d+)?"))
                    .max(Comparator.comparing(p -> p.getFileName().toString()));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static RunDirectory mkdirs(RunDirectory dir) {
        try {
            Files.createDirectories(dir.checkpoints());
        } catch (IOException e) {
            throw new UserException("cannot create run directory " + dir.root() + ": " + e.getMessage(), e);
        }
        return dir;
    }

    private static Map<String, Object> writeSummary(RunDirectory dir, ExperimentConfig cfg, RunState s,
                                                    Network net, DataSplits data, String status) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("run", cfg.name());
        m.put("status", status);
        m.put("dataset", cfg.dataset().name());
        m.put("model", cfg.model().name());
        m.put("parameters", net.numParams());
        m.put("epochs", s.epochsCompleted);
        m.put("best_epoch", s.bestEpoch);
        EpochMetrics best = s.bestEpoch == 0 ? null : s.rows.get(s.bestEpoch - 1);
        EpochMetrics last = s.rows.isEmpty() ? null : s.rows.get(s.rows.size() - 1);
        m.put("best_validation_accuracy", best == null ? null : finite(best.validationAccuracy()));
        m.put("test_accuracy", best == null ? null : finite(best.testAccuracy()));
        m.put("last_test_accuracy", last == null ? null : finite(last.testAccuracy()));
        m.put("test_examples", data.testSize());
        m.put("train_images_per_second", s.trainSeconds > 0 ? s.trainImages / s.trainSeconds : null);
        m.put("train_seconds", s.trainSeconds);
        m.put("wall_seconds", s.wallSeconds);
        m.put("best_model", best == null ? null : dir.bestModel().getFileName().toString());
        try {
            AtomicFiles.writeString(dir.summary(), JSON.writeValueAsString(m));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return m;
    }

    private static Object finite(double v) {
        return Double.isFinite(v) ? v : null;
    }

}
