package io.qat4j.training.run;

import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.Locale;

/**
 * Shows training progress: a progress bar with ETA and running loss on a terminal, plain log lines
 * every {@code logEvery} iterations otherwise (files, CI logs).
 */
public abstract class Progress implements AutoCloseable {

    /** Picks the bar when both standard streams are a terminal, log lines otherwise. */
    public static Progress forConsole(int logEvery) {
        return System.console() != null ? new Bar() : new Lines(logEvery);
    }

    /** Progress that shows nothing (tests). */
    public static Progress silent() {
        return new Lines(Integer.MAX_VALUE);
    }

    /** Starts an epoch of {@code batches} iterations over {@code images} images. */
    public abstract void startEpoch(int epoch, int epochs, long batches, long images);

    /** Records one finished iteration. */
    public abstract void step(long images, double loss);

    /** Ends the epoch. */
    public abstract void endEpoch();

    @Override
    public void close() {
        endEpoch();
    }

    static String duration(double seconds) {
        Duration d = Duration.ofSeconds(Math.round(seconds));
        return d.toHours() > 0 ? String.format(Locale.ROOT, "%dh%02dm%02ds", d.toHours(), d.toMinutesPart(), d.toSecondsPart())
                : String.format(Locale.ROOT, "%dm%02ds", d.toMinutesPart(), d.toSecondsPart());
    }

    /** Interactive progress bar (me.tongfei progressbar). */
    static final class Bar extends Progress {
        private ProgressBar bar;
        private double lossSum;
        private long steps;

        @Override
        public void startEpoch(int epoch, int epochs, long batches, long images) {
            endEpoch();
            lossSum = 0;
            steps = 0;
            bar = new ProgressBarBuilder().setTaskName(String.format(Locale.ROOT, "epoch %d/%d", epoch, epochs))
                    .setInitialMax(images).setStyle(ProgressBarStyle.COLORFUL_UNICODE_BLOCK).setUnit(" img", 1)
                    .showSpeed().setUpdateIntervalMillis(250).build();
        }

        @Override
        public void step(long images, double loss) {
            lossSum += loss;
            steps++;
            bar.stepBy(images);
            bar.setExtraMessage(String.format(Locale.ROOT, " loss %.4f", lossSum / steps));
        }

        @Override
        public void endEpoch() {
            if (bar != null) {
                bar.close();
                bar = null;
            }
        }
    }

    /** Periodic log lines with throughput and ETA. */
    static final class Lines extends Progress {
        private static final Logger LOG = LoggerFactory.getLogger(Progress.class);
        private final int every;
        private int epoch;
        private int epochs;
        private long batches;
        private long steps;
        private long images;
        private double lossSum;
        private long start;

        Lines(int every) {
            this.every = every;
        }

        @Override
        public void startEpoch(int epoch, int epochs, long batches, long images) {
            this.epoch = epoch;
            this.epochs = epochs;
            this.batches = batches;
            this.steps = 0;
            this.images = 0;
            this.lossSum = 0;
            this.start = System.nanoTime();
        }

        @Override
        public void step(long images, double loss) {
            steps++;
            this.images += images;
            lossSum += loss;
            if (steps % every == 0 || steps == batches) {
                double secs = (System.nanoTime() - start) / 1e9;
                double eta = steps == 0 ? 0 : secs / steps * (batches - steps);
                LOG.info(String.format(Locale.ROOT, "epoch %d/%d  iter %d/%d  loss %.4f  %.0f img/s  ETA %s",
                        epoch, epochs, steps, batches, lossSum / steps, this.images / Math.max(secs, 1e-9), duration(eta)));
            }
        }

        @Override
        public void endEpoch() {
            // nothing to close
        }
    }
}
