package io.qat4j.layers.train;

import io.qat4j.layers.quant.QuantContext;
import io.qat4j.layers.quant.Quantizer;
import io.qat4j.layers.quant.Quantizers;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.GradientUpdater;

import java.util.Map;
import java.util.TreeMap;

/**
 * The working updater of a {@link QuantizedUpdater}: unscales the gradient, runs the base updater, then
 * rounds the base updater's state arrays to the state format in place.
 */
final class QuantizedGradientUpdater implements GradientUpdater<QuantizedUpdater> {
    private final QuantizedUpdater config;
    private final GradientUpdater<?> base;
    private final Quantizer stateQ;

    QuantizedGradientUpdater(QuantizedUpdater config, GradientUpdater<?> base) {
        this.config = config;
        this.base = base;
        this.stateQ = config.state().isFloat() ? null : Quantizers.of(config.state());
    }

    @Override
    public QuantizedUpdater getConfig() {
        return config;
    }

    @Override
    public void setState(Map<String, INDArray> stateMap, boolean initialize) {
        base.setState(stateMap, initialize);
    }

    @Override
    public Map<String, INDArray> getState() {
        return base.getState();
    }

    @Override
    public void setStateViewArray(INDArray viewArray, long[] gradientShape, char gradientOrder, boolean initialize) {
        base.setStateViewArray(viewArray, gradientShape, gradientOrder, initialize);
    }

    @Override
    public void applyUpdater(INDArray gradient, int iteration, int epoch) {
        if (config.lossScale() != 1) {
            gradient.divi(config.lossScale());
        }
        base.applyUpdater(gradient, iteration, epoch);
        if (stateQ == null) {
            return;
        }
        Map<String, INDArray> state = base.getState();
        if (state == null || state.isEmpty()) {
            return;
        }
        int stream = 0;
        for (Map.Entry<String, INDArray> e : new TreeMap<>(state).entrySet()) {
            INDArray s = e.getValue();
            stream++;
            if (s == null || s.isEmpty() || !TrainingMonitor.isFinite(s)) {
                continue;
            }
            try (MemoryWorkspace ignored = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
                long seed = Seeds.of(0, iteration, Seeds.STATE + stream);
                s.assign(stateQ.forward(s, new QuantContext(-1, null, null, seed, true)).output());
            }
        }
    }
}
