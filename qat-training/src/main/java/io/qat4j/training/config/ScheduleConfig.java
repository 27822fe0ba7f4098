package io.qat4j.training.config;

import java.util.List;
import java.util.Map;

/**
 * The {@code training.schedule:} section: how the learning rate changes from epoch to epoch.
 *
 * @param type       one of {@link ConfigNames#SCHEDULES}
 * @param stepEpochs for {@code step}: multiply by gamma every this many epochs
 * @param gamma      for {@code step}: factor per step; for {@code exponential}: factor per epoch
 * @param minLr      for {@code cosine}: the learning rate reached at the end of training
 * @param milestones for {@code multistep}: the epochs (1-based, ascending) from which the rate is multiplied by
 *                   gamma once more, e.g. He et al.'s [82, 123] of 164 epochs
 */
public record ScheduleConfig(String type, int stepEpochs, double gamma, double minLr, List<Integer> milestones) {

    public ScheduleConfig {
        milestones = List.copyOf(milestones);
    }

    /** A schedule without milestones. */
    public ScheduleConfig(String type, int stepEpochs, double gamma, double minLr) {
        this(type, stepEpochs, gamma, minLr, List.of());
    }

    /**
     * The learning rate for a 0-based {@code epoch}.
     * constant: base; step: base * gamma^(epoch / stepEpochs) (integer division); exponential: base * gamma^epoch;
     * cosine: minLr + (base - minLr) * (1 + cos(pi * epoch / totalEpochs)) / 2; multistep: base * gamma^k, k the
     * number of milestones m with m <= epoch + 1 (the 1-based epoch).
     */
    public double lrAt(double baseLr, int epoch, int totalEpochs) {
        switch (type) {
            case "constant":
                return baseLr;
            case "step":
                return baseLr * Math.pow(gamma, epoch / stepEpochs);
            case "exponential":
                return baseLr * Math.pow(gamma, epoch);
            case "cosine":
                return minLr + (baseLr - minLr) * (1 + Math.cos(Math.PI * epoch / totalEpochs)) / 2;
            case "multistep":
                return baseLr * Math.pow(gamma, milestones.stream().filter(m -> m <= epoch + 1).count());
            default:
                throw new IllegalStateException("unknown schedule type: " + type);
        }
    }

    static ScheduleConfig from(Map<String, Object> m) {
        @SuppressWarnings("unchecked")
        List<Integer> milestones = (List<Integer>) m.get("milestones");
        return new ScheduleConfig((String) m.get("type"), (Integer) m.get("step_epochs"), (Double) m.get("gamma"),
                (Double) m.get("min_lr"), milestones);
    }
}
