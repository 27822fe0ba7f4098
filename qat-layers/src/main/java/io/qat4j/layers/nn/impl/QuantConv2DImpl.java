package io.qat4j.layers.nn.impl;

import io.qat4j.layers.nn.QuantConv2D;
import io.qat4j.layers.nn.QuantSites;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.layers.convolution.ConvolutionLayer;
import org.deeplearning4j.nn.params.ConvolutionParamInitializer;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.deeplearning4j.util.ConvolutionUtils;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/** Implementation of {@link QuantConv2D}: DL4J's convolution at the quantized values. */
public class QuantConv2DImpl extends ConvolutionLayer {
    private static final String W = ConvolutionParamInitializer.WEIGHT_KEY;
    private static final String B = ConvolutionParamInitializer.BIAS_KEY;
    /** Output-channel axis of conv weights {@code [nOut, nIn, kH, kW]}. */
    static final int WEIGHT_CHANNEL_AXIS = 0;

    private final SiteRuntime rt;

    public QuantConv2DImpl(NeuralNetConfiguration conf, DataType dataType) {
        super(conf, dataType);
        this.rt = new SiteRuntime(((QuantConv2D) conf.getLayer()).getQuantSites());
    }

    private void quantizeInput(boolean training, LayerWorkspaceMgr mgr) {
        input = rt.inputForCompute(input, params, training, index, getIterationCount(), mgr);
    }

    @Override
    public INDArray activate(boolean training, LayerWorkspaceMgr mgr) {
        assertInputSet(false);
        quantizeInput(training, mgr);
        INDArray y = super.activate(training, mgr);
        return rt.quantizeOutput(y, params, training, index, getIterationCount(), mgr);
    }

    /**
     * With an accumulator format in the sites, the convolution is computed here as an im2col product accumulated by
     * {@link io.qat4j.layers.train.ChunkedAccumulation} (NCHW only); otherwise DL4J's convolution.
     */
    @Override
    protected Pair<INDArray, INDArray> preOutput(boolean training, boolean forBackprop, LayerWorkspaceMgr mgr) {
        QuantSites sites = ((QuantConv2D) layerConf()).getQuantSites();
        if (sites.accumulation().isFloat()) {
            return super.preOutput(training, forBackprop, mgr);
        }
        assertInputSet(false);
        if (layerConf().getCnn2dDataFormat() != CNN2DFormat.NCHW) {
            throw new IllegalStateException("layer " + layerConf().getLayerName() + ": emulated accumulation ("
                    + sites.accumulation() + ") needs NCHW activations, got " + layerConf().getCnn2dDataFormat());
        }
        INDArray weights = getParamWithNoise(W, training, mgr);
        INDArray bias = hasBias() ? getParamWithNoise(B, training, mgr) : null;
        INDArray x = input.castTo(weights.dataType());
        int[] kernel = layerConf().getKernelSize();
        int[] stride = layerConf().getStride();
        int[] dilation = layerConf().getDilation();
        boolean same = convolutionMode == ConvolutionMode.Same;
        int[] outSize = ConvolutionUtils.getOutputSize(x, kernel, stride, same ? null : layerConf().getPadding(),
                convolutionMode, dilation, CNN2DFormat.NCHW);
        int[] pad = same ? ConvolutionUtils.getSameModeTopLeftPadding(outSize, new int[] {(int) x.size(2),
            (int) x.size(3)}, kernel, stride, dilation) : layerConf().getPadding();
        long outDepth = weights.size(0);
        INDArray col = AccumulationSupport.im2col(x, weights.size(2), weights.size(3), stride, pad, dilation, same,
                outSize[0], outSize[1]);
        INDArray w2d = weights.reshape('c', outDepth, col.size(1)).transpose();
        INDArray z2d = AccumulationSupport.product(sites, col, w2d, bias, training);
        INDArray z = z2d.reshape('c', x.size(0), outSize[0], outSize[1], outDepth).permute(0, 3, 1, 2);
        return new Pair<>(mgr.dup(ArrayType.ACTIVATIONS, z, 'c'), forBackprop ? col : null);
    }

    @Override
    public Pair<Gradient, INDArray> backpropGradient(INDArray epsilon, LayerWorkspaceMgr mgr) {
        quantizeInput(true, mgr);
        return rt.backprop(epsilon, mgr, gradientViews, W, B, e -> super.backpropGradient(e, mgr));
    }

    @Override
    protected INDArray getParamWithNoise(String param, boolean training, LayerWorkspaceMgr mgr) {
        return rt.param(param, W, B, getParam(param), WEIGHT_CHANNEL_AXIS, training, weightNoiseParams, index, getIterationCount(),
                params, () -> super.getParamWithNoise(param, training, mgr));
    }
}
