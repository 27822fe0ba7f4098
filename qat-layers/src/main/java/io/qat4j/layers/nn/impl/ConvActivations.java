package io.qat4j.layers.nn.impl;

import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.activations.impl.ActivationHardTanH;
import org.nd4j.linalg.activations.impl.ActivationIdentity;
import org.nd4j.linalg.activations.impl.ActivationLReLU;
import org.nd4j.linalg.activations.impl.ActivationReLU;
import org.nd4j.linalg.activations.impl.ActivationReLU6;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.Set;

/**
 * A convolution's activation function and its backward pass on DL4J's layout of convolution outputs.
 *
 * <p>DL4J's {@code ConvolutionLayer} returns its pre-activation {@code z [N, C, H, W]} as a permuted view of a dense
 * {@code [C, N, H, W]} buffer; libnd4j runs element-wise ops on such views on a slow strided path (measured 5-6x
 * slower than on the dense buffer). For activations that are element-wise and exact (comparisons, clamps, a
 * multiplication by a constant: identity, ReLU, ReLU6, leaky ReLU, hard tanh) the same op gives the same values on
 * any layout, so here it runs on the dense {@code [C, N, H, W]} view of the same memory, with the error copied into
 * that layout for the backward pass. Every other activation (e.g. softmax, which is not element-wise, or tanh, whose
 * vectorized and scalar evaluations could round differently) runs exactly as DL4J runs it.
 */
final class ConvActivations {
    private static final Set<Class<?>> EXACT_ELEMENTWISE = Set.of(ActivationIdentity.class, ActivationReLU.class,
            ActivationReLU6.class, ActivationLReLU.class, ActivationHardTanH.class);

    private ConvActivations() {
    }

    /** {@code z} as the dense {@code [C, N, H, W]} array it is a view of, or null when it is not such a view. */
    private static INDArray channelMajor(IActivation afn, INDArray z) {
        if (!EXACT_ELEMENTWISE.contains(afn.getClass()) || z.rank() != 4) {
            return null;
        }
        INDArray p = z.permute(1, 0, 2, 3);
        return ConvKernels.isCContiguous(p) ? p : null;
    }

    /** {@code afn.getActivation(z, training)} (in place where DL4J's is), as an {@code [N, C, H, W]} array. */
    static INDArray activate(IActivation afn, INDArray z, boolean training) {
        INDArray p = channelMajor(afn, z);
        return p == null ? afn.getActivation(z, training) : afn.getActivation(p, training).permute(1, 0, 2, 3);
    }

    /**
     * {@code afn.backprop(z, epsilon).getFirst()}, the error at the pre-activation, as an {@code [N, C, H, W]} array;
     * for DL4J's conv output layout a view of a dense {@code [C, N, H, W]} array.
     */
    static INDArray backprop(IActivation afn, INDArray z, INDArray epsilon) {
        INDArray p = channelMajor(afn, z);
        if (p == null) {
            return afn.backprop(z, epsilon).getFirst();
        }
        INDArray e = epsilon.permute(1, 0, 2, 3);
        if (!ConvKernels.isCContiguous(e)) {
            e = e.dup('c');
        }
        return afn.backprop(p, e).getFirst().permute(1, 0, 2, 3);
    }
}
