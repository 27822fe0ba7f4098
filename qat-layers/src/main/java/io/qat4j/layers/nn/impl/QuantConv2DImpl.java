package io.qat4j.layers.nn.impl;

import io.qat4j.layers.nn.QuantConv2D;
import io.qat4j.layers.nn.QuantSites;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.CacheMode;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.gradient.DefaultGradient;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.layers.convolution.ConvolutionLayer;
import org.deeplearning4j.nn.params.ConvolutionParamInitializer;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.shape.Shape;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Implementation of {@link QuantConv2D}: DL4J's convolution at the quantized values.
 *
 * <p>The forward and backward passes are those of DL4J's {@code ConvolutionLayer} (1.0.0-M2.1, its built-in path;
 * DL4J's oneDNN / cuDNN helpers, off by default, are not used), with the patch matrix built by
 * {@link ConvKernels#im2col} and the input error reduced by {@link ConvKernels#col2im} instead of libnd4j's ops.
 * The matrix products are DL4J's own calls on the same operands (same orders and transposes), so with every site
 * {@code float} the output is DL4J's bit for bit, and so are the gradients.
 */
public class QuantConv2DImpl extends ConvolutionLayer {
    private static final String W = ConvolutionParamInitializer.WEIGHT_KEY;
    private static final String B = ConvolutionParamInitializer.BIAS_KEY;
    /** Output-channel axis of conv weights {@code [nOut, nIn, kH, kW]}. */
    static final int WEIGHT_CHANNEL_AXIS = 0;

    private final SiteRuntime rt;
    /** What the last training forward pass kept for its backward pass (null when nothing is kept). */
    private Kept kept;

    /**
     * The input, pre-activation and patch matrix of a training forward pass, in DL4J's ACTIVATIONS workspace (open
     * from the forward to the end of the backward pass), so the backward pass need not recompute them as DL4J's
     * layer does without a cache mode. Used only for the same input object and while both arrays are in scope.
     */
    private record Kept(INDArray input, INDArray z, INDArray col) {
        boolean validFor(INDArray in) {
            return input == in && ConvKernels.live(z) && ConvKernels.live(col);
        }
    }

    public QuantConv2DImpl(NeuralNetConfiguration conf, DataType dataType) {
        super(conf, dataType);
        this.rt = new SiteRuntime(this, ((QuantConv2D) conf.getLayer()).getQuantSites(), W, WEIGHT_CHANNEL_AXIS, B);
    }

    private void quantizeInput(boolean training, LayerWorkspaceMgr mgr) {
        input = rt.inputForCompute(input, training, mgr);
    }

    private QuantSites sites() {
        return ((QuantConv2D) layerConf()).getQuantSites();
    }

    @Override
    public INDArray activate(boolean training, LayerWorkspaceMgr mgr) {
        assertInputSet(false);
        quantizeInput(training, mgr);
        INDArray y = convActivate(training, mgr);
        return rt.quantizeOutput(y, training, mgr);
    }

    /**
     * {@code ConvolutionLayer.activate}: input dropout, {@link #preOutput}, the feed-forward cache, then the
     * activation function ({@link ConvActivations}: element-wise exact ones on the dense buffer behind the view).
     * In training (without DL4J's cache mode) the pre-activation and the patch matrix are kept for the backward pass
     * ({@link Kept}) and the activation works on a copy.
     */
    private INDArray convActivate(boolean training, LayerWorkspaceMgr mgr) {
        if (cacheMode == null) {
            cacheMode = CacheMode.NONE;
        }
        kept = null;
        boolean keep = training && cacheMode == CacheMode.NONE;
        applyDropOutIfNecessary(training, mgr);
        Pair<INDArray, INDArray> p = convPreOutput(training, keep, keep, mgr);
        INDArray z = p.getFirst();
        if (training && cacheMode != CacheMode.NONE && mgr.hasConfiguration(ArrayType.FF_CACHE)
                && mgr.isWorkspaceOpen(ArrayType.FF_CACHE)) {
            try (MemoryWorkspace ignored = mgr.notifyScopeBorrowed(ArrayType.FF_CACHE)) {
                preOutput = z.unsafeDuplication();
            }
        }
        if (keep) {
            kept = new Kept(input, z, p.getSecond());
            z = copySameLayout(z, mgr);
        }
        return ConvActivations.activate(layerConf().getActivationFn(), z, training);
    }

    /** A copy of {@code z} in the ACTIVATIONS workspace, in the same memory order (CNHW or C order). */
    private static INDArray copySameLayout(INDArray z, LayerWorkspaceMgr mgr) {
        INDArray channelMajor = z.permute(1, 0, 2, 3);
        if (!ConvKernels.isCContiguous(channelMajor)) {
            return mgr.dup(ArrayType.ACTIVATIONS, z, 'c');
        }
        INDArray copy = mgr.createUninitialized(ArrayType.ACTIVATIONS, z.dataType(), channelMajor.shape(), 'c');
        copy.assign(channelMajor);
        return copy.permute(1, 0, 2, 3);
    }

    @Override
    public void clear() {
        super.clear();
        kept = null;
    }

    /**
     * {@code ConvolutionLayer.preOutput}: the patch matrix {@code [N·outH·outW, C·kH·kW]} times the weights viewed
     * as {@code [kW·kH·C, nOut]} (F order), into an F-order result in the ACTIVATIONS workspace, plus the bias,
     * viewed as {@code [N, nOut, outH, outW]}. With an accumulator format in the sites the product is accumulated
     * by {@link io.qat4j.layers.train.ChunkedAccumulation} instead (NCHW only). The second element is the patch
     * matrix when {@code forBackprop}.
     */
    @Override
    protected Pair<INDArray, INDArray> preOutput(boolean training, boolean forBackprop, LayerWorkspaceMgr mgr) {
        if (forBackprop && kept != null && kept.validFor(input)) {
            return new Pair<>(kept.z(), kept.col());
        }
        return convPreOutput(training, forBackprop, false, mgr);
    }

    /** {@link #preOutput}; with {@code keepCol} the patch matrix is allocated in the ACTIVATIONS workspace. */
    private Pair<INDArray, INDArray> convPreOutput(boolean training, boolean forBackprop, boolean keepCol,
                                                   LayerWorkspaceMgr mgr) {
        assertInputSet(false);
        QuantSites sites = sites();
        boolean emulated = !sites.accumulation().isFloat();
        CNN2DFormat format = layerConf().getCnn2dDataFormat();
        if (emulated && format != CNN2DFormat.NCHW) {
            throw new IllegalStateException("layer " + layerConf().getLayerName() + ": emulated accumulation ("
                    + sites.accumulation() + ") needs NCHW activations, got " + format);
        }
        INDArray bias = hasBias() ? getParamWithNoise(B, training, mgr) : null;
        INDArray weights = getParamWithNoise(W, training, mgr);
        validateInputRank();
        INDArray x = input.castTo(dataType);
        if (format == CNN2DFormat.NHWC) {
            x = x.permute(0, 3, 1, 2).dup();
        }
        long miniBatch = x.size(0);
        long outDepth = weights.size(0);
        long inDepth = weights.size(1);
        validateInputDepth(inDepth);
        ConvGeometry g = geometry(x);
        if (!emulated && preOutput != null && i2d != null && forBackprop) {
            return new Pair<>(preOutput, i2d);
        }
        long[] colShape = {miniBatch * g.outPositions(), inDepth * g.kernelArea()};
        INDArray col = keepCol ? mgr.createUninitialized(ArrayType.ACTIVATIONS, weights.dataType(), colShape, 'c')
                : Nd4j.createUninitialized(weights.dataType(), colShape, 'c');
        ConvKernels.im2col(x.castTo(weights.dataType()), g, col);
        INDArray z;
        if (emulated) {
            INDArray w2d = weights.reshape('c', outDepth, col.size(1)).transpose();
            INDArray z2d = AccumulationSupport.product(sites, col, w2d, bias, training);
            z = mgr.dup(ArrayType.ACTIVATIONS, z2d.reshape('c', miniBatch, g.outH(), g.outW(), outDepth)
                    .permute(0, 3, 1, 2), 'c');
            return new Pair<>(z, forBackprop ? col : null);
        }
        INDArray reshapedW = weights.permute(3, 2, 1, 0).reshape('f', (long) g.kW() * g.kH() * inDepth, outDepth);
        z = mgr.createUninitialized(ArrayType.ACTIVATIONS, weights.dataType(), new long[] {col.size(0),
            reshapedW.size(1)}, 'f');
        col.mmuli(reshapedW, z);
        if (bias != null) {
            z.addiRowVector(bias);
        }
        z = Shape.newShapeNoCopy(z, new long[] {g.outW(), g.outH(), miniBatch, outDepth}, true).permute(2, 3, 1, 0);
        if (training && cacheMode != CacheMode.NONE && mgr.hasConfiguration(ArrayType.FF_CACHE)
                && mgr.isWorkspaceOpen(ArrayType.FF_CACHE)) {
            try (MemoryWorkspace ignored = mgr.notifyScopeBorrowed(ArrayType.FF_CACHE)) {
                i2d = col.unsafeDuplication();
            }
        }
        if (format == CNN2DFormat.NHWC) {
            z = mgr.dup(ArrayType.ACTIVATIONS, z.permute(0, 2, 3, 1));
        }
        return new Pair<>(z, forBackprop ? col : null);
    }

    /** The geometry DL4J computes for this layer on an NCHW input. */
    private ConvGeometry geometry(INDArray nchw) {
        return ConvGeometry.of(nchw, layerConf().getKernelSize(), layerConf().getStride(), layerConf().getPadding(),
                layerConf().getDilation(), convolutionMode);
    }

    /**
     * {@code ConvolutionLayer.backpropGradient}: the error at the pre-activation ({@link ConvActivations}),
     * {@code dW = (colᵀ · δ2dᵀ)} by DL4J's {@code Nd4j.gemm} call into the weight-gradient view, the patch errors
     * {@code W2d · δ2d} (DL4J's GEMM, F-order result), reduced by col2im into a CNHW buffer (DL4J's layout) in the
     * ACTIVATION_GRAD workspace, {@code db = Σ δ2d} over rows.
     */
    private Pair<Gradient, INDArray> convBackprop(INDArray epsilon, LayerWorkspaceMgr mgr) {
        assertInputSet(true);
        INDArray weights = getParamWithNoise(W, true, mgr);
        INDArray x = input.castTo(dataType);
        if (epsilon.dataType() != dataType) {
            epsilon = epsilon.castTo(dataType);
        }
        CNN2DFormat format = layerConf().getCnn2dDataFormat();
        if (format != CNN2DFormat.NCHW) {
            x = x.permute(0, 3, 1, 2);
            epsilon = epsilon.permute(0, 3, 1, 2);
        }
        long miniBatch = x.size(0);
        long outDepth = weights.size(0);
        long inDepth = weights.size(1);
        ConvGeometry g = geometry(x);
        long k = inDepth * g.kernelArea();

        INDArray biasGradView = gradientViews.get(B);
        INDArray weightGradView = gradientViews.get(W);
        INDArray weightGradView2df = Shape.newShapeNoCopy(weightGradView, new long[] {outDepth, k}, false).transpose();

        Pair<INDArray, INDArray> p = preOutput4d(true, true, mgr);
        INDArray z = p.getFirst();
        if (format != CNN2DFormat.NCHW) {
            z = z.permute(0, 3, 1, 2);
        }
        INDArray delta = ConvActivations.backprop(layerConf().getActivationFn(), z, epsilon);
        delta = delta.permute(1, 0, 2, 3);
        INDArray delta2d = delta.reshape('c', new long[] {outDepth, miniBatch * g.outPositions()});
        INDArray im2col2d = p.getSecond();
        if (im2col2d == null) {
            im2col2d = ConvKernels.im2col(x.castTo(dataType), g);
        }
        Nd4j.gemm(im2col2d, delta2d, weightGradView2df, true, true, 1.0, 0.0);

        INDArray w2d = weights.permute(3, 2, 1, 0).reshape('f', k, outDepth);
        // DL4J's w2d.mmul(delta2d) runs this GEMM into an F-order temporary, then copies it into a C-order result
        INDArray epsNext2d = Nd4j.createUninitialized(delta2d.dataType(), new long[] {k, delta2d.size(1)}, 'f');
        w2d.mmuli(delta2d, epsNext2d);
        INDArray epsNextOrig = mgr.createUninitialized(ArrayType.ACTIVATION_GRAD, epsNext2d.dataType(),
                new long[] {inDepth, miniBatch, g.inH(), g.inW()}, 'c');
        INDArray epsNext = epsNextOrig.permute(1, 0, 2, 3);
        ConvKernels.col2im(epsNext2d.transpose(), g, epsNext);

        Gradient ret = new DefaultGradient();
        if (layerConf().hasBias()) {
            delta2d.sum(biasGradView, 1);
            ret.setGradientFor(B, biasGradView);
        }
        ret.setGradientFor(W, weightGradView, 'c');
        weightNoiseParams.clear();
        kept = null;
        epsNext = backpropDropOutIfPresent(epsNext);
        if (format != CNN2DFormat.NCHW) {
            epsNext = epsNext.permute(0, 2, 3, 1);
        }
        return new Pair<>(ret, epsNext);
    }

    /**
     * DL4J's convolution backward pass with the three products accumulated in the sites' format: the weight
     * gradient over the N·outH·outW output positions, the bias gradient, and the error of each input patch over
     * the output channels (col2im then adds the overlapping patches in float32).
     */
    private Pair<Gradient, INDArray> accumulatedBackprop(INDArray epsilon, LayerWorkspaceMgr mgr) {
        assertInputSet(true);
        QuantSites sites = sites();
        INDArray weights = getParamWithNoise(W, true, mgr);
        INDArray x = input.castTo(weights.dataType());
        Pair<INDArray, INDArray> p = preOutput(true, true, mgr);
        INDArray delta = layerConf().getActivationFn().backprop(p.getFirst(), epsilon.castTo(weights.dataType()))
                .getFirst();
        INDArray col = p.getSecond();
        long n = delta.size(0);
        long outDepth = delta.size(1);
        // rows (sample, output row, output column) as in the im2col matrix
        INDArray delta2d = delta.permute(0, 2, 3, 1).dup('c').reshape('c', n * delta.size(2) * delta.size(3),
                outDepth);
        Gradient ret = new DefaultGradient();
        if (hasBias()) {
            INDArray biasGrad = gradientViews.get(B);
            biasGrad.assign(AccumulationSupport.columnSums(sites, delta2d).reshape(biasGrad.shape()));
            ret.setGradientFor(B, biasGrad);
        }
        INDArray weightGrad = gradientViews.get(W);
        weightGrad.assign(AccumulationSupport.product(sites, delta2d.transpose(), col, null, true)
                .reshape('c', weightGrad.shape()));
        ret.setGradientFor(W, weightGrad, 'c');
        INDArray epsCol = AccumulationSupport.product(sites, delta2d, weights.reshape('c', outDepth, col.size(1)), null,
                true);
        ConvGeometry g = geometry(x);
        INDArray epsNext = mgr.createUninitialized(ArrayType.ACTIVATION_GRAD, epsCol.dataType(),
                new long[] {n, x.size(1), g.inH(), g.inW()}, 'c');
        ConvKernels.col2im(epsCol, g, epsNext);
        weightNoiseParams.clear();
        kept = null;
        return new Pair<>(ret, backpropDropOutIfPresent(epsNext));
    }

    @Override
    public Pair<Gradient, INDArray> backpropGradient(INDArray epsilon, LayerWorkspaceMgr mgr) {
        quantizeInput(true, mgr);
        boolean accumulate = sites().accumulateBackward();
        return rt.backprop(epsilon, mgr, gradientViews,
                e -> accumulate ? accumulatedBackprop(e, mgr) : convBackprop(e, mgr));
    }

    @Override
    protected INDArray getParamWithNoise(String param, boolean training, LayerWorkspaceMgr mgr) {
        return rt.param(param, training, weightNoiseParams, () -> super.getParamWithNoise(param, training, mgr));
    }
}
