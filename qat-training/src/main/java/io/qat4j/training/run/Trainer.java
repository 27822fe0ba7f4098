package io.qat4j.training.run;

import io.qat4j.layers.train.TrainingMonitor;
import io.qat4j.training.config.TrainingConfig;
import io.qat4j.training.data.DataSplits;
import io.qat4j.training.model.Network;
import org.deeplearning4j.optimize.api.TrainingListener;
import org.deeplearning4j.util.ModelSerializer;
import org.nd4j.linalg.dataset.api.DataSet;
import org.nd4j.linalg.dataset.api.iterator.DataSetIterator;
import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Locale;
import java.util.Map;

/**
 * The epoch loop: learning-rate schedule, training steps, evaluation, best-model selection,
 * checkpoints and metrics files. The network's training listeners hear {@code onEpochStart} and
 * {@code onEpochEnd} as in DL4J's {@code fit(DataSetIterator)} (the loop calls {@code fit} per batch).
 *
 * <p>Everything an epoch depends on is derived from the seed and the epoch number (data order,
 * augmentation, dropout), and the checkpoint holds the parameters and the updater state, so a run
 * resumed from the checkpoint of epoch {@code k} continues exactly as the uninterrupted run would.
 */
public final class Trainer {
    private static final Logger LOG = LoggerFactory.getLogger(Trainer.class);

    /** Training accuracy is measured on this many (fixed) training images after each epoch. */
    public static final int TRAIN_EVAL_SIZE = 10_000;
    /** Mini-batch size for evaluation passes (inference only, so larger than training batches). */
    static final int EVAL_BATCH = 500;

    private final String runName;
    private final RunDirectory dir;
    private final TrainingConfig training;
    private final DataSplits data;
    private final Progress progress;

    public Trainer(String runName, RunDirectory dir, TrainingConfig training, DataSplits data, Progress progress) {
        this.runName = runName;
        this.dir = dir;
        this.training = training;
        this.data = data;
        this.progress = progress;
    }

    /** How a call to {@link #train} ended. */
    public enum Outcome { COMPLETED, EARLY_STOPPED }

    /**
     * Trains from {@code state.epochsCompleted} up to the configured number of epochs, updating
     * {@code state} and the run files after each epoch.
     *
     * @throws DivergedException when the loss, a parameter or a quantized backward tensor becomes NaN or infinite
     */
    public Outcome train(Network net, RunState state) {
        TrainingMonitor monitor = TrainingMonitor.install();
        try {
            return train(net, state, monitor);
        } finally {
            TrainingMonitor.uninstall();
        }
    }

    private Outcome train(Network net, RunState state, TrainingMonitor monitor) {
        int epochs = training.epochs();
        int batch = training.batchSize();
        double baseLr = training.optimizer().lr();
        long batches = (data.trainSize() + batch - 1) / batch;
        for (int e = state.epochsCompleted; e < epochs; e++) {
            int patience = training.earlyStopPatience();
            if (patience > 0 && state.epochsWithoutImprovement >= patience) {
                LOG.info("early stop: validation accuracy has not improved for {} epochs (best {} at epoch {})",
                        state.epochsWithoutImprovement, pct(state.bestValidationAccuracy), state.bestEpoch);
                return Outcome.EARLY_STOPPED;
            }
            long epochStart = System.nanoTime();
            int epoch = e + 1;
            double lr = training.schedule().lrAt(baseLr, e, epochs);
            net.setLearningRate(lr);
            Nd4j.getRandom().setSeed(training.seed() * 1_000_003L + e);

            DataSetIterator it = data.train(batch, e);
            for (TrainingListener l : net.listeners()) {
                l.onEpochStart(net.model()); // phase switches (e.g. freezing batch-norm statistics) by epoch
            }
            progress.startEpoch(epoch, epochs, batches, data.trainSize());
            double lossSum = 0;
            long seen = 0;
            int iteration = 0;
            long trainStart = System.nanoTime();
            while (it.hasNext()) {
                org.nd4j.linalg.dataset.DataSet ds = (org.nd4j.linalg.dataset.DataSet) it.next();
                net.fit(ds);
                iteration++;
                double loss = net.score();
                long n = ds.getFeatures().size(0);
                TrainingMonitor.Overflow overflow = monitor.firstOverflow();
                if (!Double.isFinite(loss) || overflow != null || !FixedPointDiagnostics.paramsFinite(net)) {
                    progress.endEpoch();
                    String where = FixedPointDiagnostics.whereItOverflowed(net, overflow);
                    String what = Double.isFinite(loss)
                            ? String.format(Locale.ROOT, "values overflowed at epoch %d, iteration %d (loss %.4g)", epoch,
                            iteration, loss)
                            : String.format(Locale.ROOT, "the loss became %s at epoch %d, iteration %d", loss, epoch, iteration);
                    throw new DivergedException(String.format(Locale.ROOT,
                            "Training diverged: %s.%s %s Lower training.optimizer.lr (now %g)%s and start again, or resume "
                                    + "from the checkpoint.",
                            what, where.isEmpty() ? "" : " " + where,
                            state.checkpointModel == null ? "No epoch had finished, so there is no checkpoint."
                                    : "The last good checkpoint is " + dir.root().resolve(state.checkpointModel)
                                    + " (epoch " + state.epochsCompleted + ").", lr,
                            overflow == null ? "" : " or widen the format of that path"));
                }
                lossSum += loss * n;
                seen += n;
                progress.step(n, loss);
            }
            double trainSeconds = (System.nanoTime() - trainStart) / 1e9;
            progress.endEpoch();
            net.incrementEpochCount();
            Map<String, Object> diagnostics = FixedPointDiagnostics.entry(epoch, monitor.takeStats(), net);
            for (TrainingListener l : net.listeners()) {
                l.onEpochEnd(net.model());
            }

            Evaluator.Result trainEval = Evaluator.evaluate(net, data.train(EVAL_BATCH, 0), TRAIN_EVAL_SIZE);
            DataSetIterator valIt = data.validation(EVAL_BATCH);
            Evaluator.Result val = valIt == null ? null : Evaluator.evaluate(net, valIt, 0);
            Evaluator.Result test = Evaluator.evaluate(net, data.test(EVAL_BATCH), 0);

            boolean improved;
            if (val == null) {
                improved = true; // without a validation split the latest model is the one we keep
            } else {
                improved = state.bestEpoch == 0 || val.accuracy() > state.bestValidationAccuracy;
            }
            if (improved) {
                state.bestEpoch = epoch;
                state.bestValidationAccuracy = val == null ? Double.NaN : val.accuracy();
                state.epochsWithoutImprovement = 0;
            } else {
                state.epochsWithoutImprovement++;
            }

            // Model files first, then the state that names them.
            String ckptName = RunDirectory.checkpointName(epoch);
            Path ckpt = dir.root().resolve(ckptName);
            AtomicFiles.write(ckpt, net::save);
            copyAtomically(ckpt, dir.lastModel());
            if (improved) {
                copyAtomically(ckpt, dir.bestModel());
            }
            double epochSeconds = (System.nanoTime() - epochStart) / 1e9;
            EpochMetrics row = new EpochMetrics(epoch, lr, seen == 0 ? Double.NaN : lossSum / seen, trainEval.accuracy(),
                    val == null ? Double.NaN : val.meanLoss(), val == null ? Double.NaN : val.accuracy(),
                    test.meanLoss(), test.accuracy(), seen / trainSeconds, trainSeconds, epochSeconds,
                    LearnedParameters.values(net));
            state.rows.add(row);
            if (diagnostics != null) {
                state.fixedPoint.add(diagnostics);
            }
            state.epochsCompleted = epoch;
            state.checkpointModel = ckptName;
            state.trainSeconds += trainSeconds;
            state.trainImages += seen;
            state.wallSeconds += epochSeconds;
            state.save(dir.checkpointState());
            deleteOldCheckpoints(ckpt);
            MetricsFiles.write(dir, runName, state.rows, state.fixedPoint,
                    "sse".equals(training.loss()) ? "sum of squared errors" : "cross-entropy");

            LOG.info(String.format(Locale.ROOT,
                    "epoch %d/%d  lr %.3g  loss %.4f  train acc %s  val acc %s  test acc %s  %.0f img/s  %s%s",
                    epoch, epochs, lr, row.trainLoss(), pct(row.trainAccuracy()), pct(row.validationAccuracy()),
                    pct(row.testAccuracy()), row.imagesPerSecond(), Progress.duration(epochSeconds),
                    improved ? "  (best)" : ""));
            if (diagnostics != null) {
                LOG.info("fixed point, epoch {}:\n{}", epoch, String.join("\n", FixedPointDiagnostics.logLines(diagnostics)));
            }
            if (!row.learned().isEmpty()) {
                LOG.info("learned quantizer parameters: {}", row.learned().entrySet().stream()
                        .map(p -> p.getKey() + " " + String.format(Locale.ROOT, "%.4g", p.getValue()))
                        .collect(java.util.stream.Collectors.joining(", ")));
            }
        }
        return Outcome.COMPLETED;
    }

    static String pct(double fraction) {
        return Double.isFinite(fraction) ? String.format(Locale.ROOT, "%.2f%%", 100 * fraction) : "-";
    }

    private static void copyAtomically(Path from, Path to) {
        AtomicFiles.write(to, tmp -> Files.copy(from, tmp, StandardCopyOption.REPLACE_EXISTING));
    }

    private void deleteOldCheckpoints(Path keep) {
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir.checkpoints(), "epoch-*.zip")) {
            for (Path f : files) {
                if (!f.getFileName().equals(keep.getFileName())) {
                    Files.deleteIfExists(f);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot clean old checkpoints in " + dir.checkpoints(), e);
        }
    }
}
