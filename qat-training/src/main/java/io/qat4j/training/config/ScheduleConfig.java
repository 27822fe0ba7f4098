package io.qat4j.training.config;

import java.util.Map;

/**
 * The {@code training.schedule:} section: how the learning rate changes from epoch to epoch.
 *
 * @param type       one of {@link ConfigNames#SCHEDULES}
 * @param stepEpochs for {@code step}: multiply by gamma every this many epochs
 * @param gamma      for {@code step}: factor per step; for {@code exponential}: factor per epoch
 * @param minLr      for {@code cosine}: the learning rate reached at the end of training
 */
public record ScheduleConfig(String type, int stepEpochs, double gamma, double minLr) {

    /**
     * The learning rate for a 0-based {@code epoch}.
     * constant: base; step: base * gamma^(epoch / stepEpochs) (integer division); exponential: base * gamma^epoch;
     * cosine: minLr + (base - minLr) * (1 + cos(pi * epoch / totalEpochs)) / 2.
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
            default:
                throw new IllegalStateException("unknown schedule type: " + type);
        }
    }

    static ScheduleConfig from(Map<String, Object> m) {
        return new ScheduleConfig((String) m.get("type"), (Integer) m.get("step_epochs"), (Double) m.get("gamma"),
                (Double) m.get("min_lr"));
    }
}
