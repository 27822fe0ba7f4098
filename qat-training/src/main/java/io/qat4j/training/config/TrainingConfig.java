package io.qat4j.training.config;

import java.util.Map;

/**
 * The {@code training:} section.
 *
 * @param epochs            number of passes over the training set
 * @param batchSize         mini-batch size
 * @param seed              random seed for initialization, shuffling and dropout
 * @param weightDecay       L2 strength, applied as DL4J weight decay (0 = off)
 * @param optimizer         the optimizer and its parameters
 * @param schedule          the learning-rate schedule
 * @param earlyStopPatience stop after this many epochs without validation improvement (0 = off)
 * @param logEvery          log the training loss every this many iterations
 * @param loss              one of {@link ConfigNames#LOSSES}: {@code cross_entropy} (softmax outputs) or {@code sse}
 *                          (sum of squared errors on the raw outputs against one-hot labels, WAGE's loss)
 */
public record TrainingConfig(int epochs, int batchSize, long seed, double weightDecay, OptimizerConfig optimizer,
                             ScheduleConfig schedule, int earlyStopPatience, int logEvery, String loss) {

    /** The cross-entropy configuration. */
    public TrainingConfig(int epochs, int batchSize, long seed, double weightDecay, OptimizerConfig optimizer,
                          ScheduleConfig schedule, int earlyStopPatience, int logEvery) {
        this(epochs, batchSize, seed, weightDecay, optimizer, schedule, earlyStopPatience, logEvery, "cross_entropy");
    }

    /** The learning rate for a 0-based epoch: the optimizer's lr under the schedule. */
    public double lrAt(int epoch) {
        return schedule.lrAt(optimizer.lr(), epoch, epochs);
    }

    @SuppressWarnings("unchecked")
    static TrainingConfig from(Map<String, Object> m) {
        return new TrainingConfig((Integer) m.get("epochs"), (Integer) m.get("batch_size"), (Long) m.get("seed"),
                (Double) m.get("weight_decay"), OptimizerConfig.from((Map<String, Object>) m.get("optimizer")),
                ScheduleConfig.from((Map<String, Object>) m.get("schedule")), (Integer) m.get("early_stop_patience"),
                (Integer) m.get("log_every"), (String) m.get("loss"));
    }
}
