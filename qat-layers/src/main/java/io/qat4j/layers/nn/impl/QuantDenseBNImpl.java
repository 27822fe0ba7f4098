package io.qat4j.layers.nn.impl;

import io.qat4j.layers.nn.QuantDenseBN;
import io.qat4j.layers.nn.QuantSites;
import io.qat4j.layers.train.ChunkedAccumulation;
import org.deeplearning4j.exception.DL4JInvalidInputException;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.Arrays;

/** Implementation of {@link QuantDenseBN}: the fold of {@link FusedBnImpl} around {@code x · W}. */
public class QuantDenseBNImpl extends FusedBnImpl<QuantDenseBN> {

    public QuantDenseBNImpl(NeuralNetConfiguration conf, DataType dataType) {
        super(conf, dataType, 1);
    }

    /**
     * {@code x · W}; accumulated in the sites' accumulator format when they name one (fixed-point training,
     * {@link ChunkedAccumulation}), like {@code QuantDense}.
     */
    @Override
    protected INDArray linear(INDArray x, INDArray w) {
        QuantSites s = layerConf().getQuantSites();
        if (s.accumulation().isFloat()) {
            return x.mmul(w);
        }
        return ChunkedAccumulation.matmul(x.castTo(w.dataType()), w, s.accumulation(), s.accumulationChunk());
    }

    @Override
    protected INDArray[] linearBackward(INDArray x, INDArray w, INDArray delta) {
        return new INDArray[]{delta.mmul(w.transpose()), x.transpose().mmul(delta)};
    }

    @Override
    protected void checkInput(INDArray x) {
        long nIn = layerConf().getNIn();
        if (x.rank() != 2 || x.size(1) != nIn) {
            throw new DL4JInvalidInputException("Input of " + layerId() + " has shape " + Arrays.toString(x.shape())
                    + "; expected [minibatch, " + nIn + "]");
        }
    }

    @Override
    public Type type() {
        return Type.FEED_FORWARD;
    }
}
