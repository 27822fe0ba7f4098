package io.qat4j.training.export;

import io.qat4j.inference.AccumulatorWidth;
import io.qat4j.inference.Requantizer;
import io.qat4j.inference.format.ActivationSpec;
import io.qat4j.inference.format.ExportModel;
import io.qat4j.inference.format.Formats;
import io.qat4j.inference.format.IntTensor;
import io.qat4j.inference.format.LayerSpec;
import io.qat4j.inference.format.Manifest;
import io.qat4j.inference.format.Requant;
import io.qat4j.inference.format.TensorSpec;
import io.qat4j.layers.fold.BatchNormFold;
import io.qat4j.layers.nn.QuantActivation;
import io.qat4j.layers.nn.QuantConv2D;
import io.qat4j.layers.nn.QuantConvBN2D;
import io.qat4j.layers.nn.QuantDense;
import io.qat4j.layers.nn.QuantDenseBN;
import io.qat4j.layers.nn.impl.FusedBnImpl;
import io.qat4j.layers.nn.QuantLayer;
import io.qat4j.layers.nn.QuantOutput;
import io.qat4j.layers.nn.QuantParamInitializer;
import io.qat4j.layers.nn.QuantSites;
import io.qat4j.layers.observe.Observer;
import io.qat4j.layers.observe.Observers;
import io.qat4j.layers.quant.Granularity;
import io.qat4j.layers.quant.QuantContext;
import io.qat4j.layers.quant.QuantKind;
import io.qat4j.layers.quant.QuantResult;
import io.qat4j.layers.quant.QuantSpec;
import io.qat4j.layers.quant.Quantizers;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.InputPreProcessor;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.conf.layers.BaseOutputLayer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.DropoutLayer;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.conf.preprocessor.CnnToFeedForwardPreProcessor;
import org.deeplearning4j.nn.conf.preprocessor.FeedForwardToCnnPreProcessor;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.activations.impl.ActivationIdentity;
import org.nd4j.linalg.activations.impl.ActivationReLU;
import org.nd4j.linalg.activations.impl.ActivationSoftmax;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Turns a trained quantized {@link MultiLayerNetwork} into an integer-only {@link ExportModel}
 * ({@code docs/export-format.md}) that {@code io.qat4j.inference.engine.IntegerEngine} runs.
 *
 * <p>What is computed (Jacob et al., "Quantization and Training of Neural Networks for Efficient
 * Integer-Arithmetic-Only Inference", arXiv:1712.05877, §2):
 * <ul>
 *   <li>Input: image pixels x/255 are uint8 codes q = x·255 with scale s_x = 1/255, zero point 0.</li>
 *   <li>Weights of a conv / dense layer: the codes of the layer's weight quantizer (its
 *       {@link QuantResult#codes()}) with its per-channel scales s_w[c] and zero points; DL4J's dense layout
 *       [nIn, nOut] is transposed to [O, F]. Batch normalization that follows the layer is folded into float
 *       weights and bias first ({@link BatchNormFold#fold}), then the folded weights are quantized. Layers that
 *       fold it during training ({@link QuantConvBN2D}, {@link QuantDenseBN}) export their inference-mode folded
 *       weights and bias ({@link FusedBnImpl#foldedWeights()}), which their weight site quantizes exactly so.</li>
 *   <li>Bias: int32 b_q[c] = round(b[c] / (s_x·s_w[c])) (eq. 10 and §2.4).</li>
 *   <li>Output scale s_y and zero point z_y: those of the next quantized activation site (a
 *       {@link QuantActivation} after optional ReLU / max pooling, or the layer's own output site), computed
 *       by that site's quantizer from its observer's (min, max), exactly as the fake-quant model does.</li>
 *   <li>Requantization per output channel: M[c] = s_x·s_w[c] / s_y (eq. 5), encoded with
 *       {@link Requantizer#requant} (an int32 multiplier and a right shift, or a pure shift).</li>
 *   <li>ReLU is folded into the clamp [max(z_y, qmin), qmax].</li>
 *   <li>Max pooling is kept after the requantization: max pooling commutes with the monotone requantization,
 *       and the fake-quant model quantizes after the pool.</li>
 *   <li>Flattening of convolutional activations is in C, H, W order (DL4J's CnnToFeedForward).</li>
 *   <li>The output layer (float output site, softmax or identity) yields int32 logits at the common scale
 *       s_out = s_x·min_c s_w[c] without clamping: M[c] = s_w[c] / min_c s_w[c] &ge; 1, so the accumulator
 *       a[c] at scale s_x·s_w[c] (bias included) is only rescaled; logit[c] = q[c]·s_out.</li>
 * </ul>
 * Unsupported layers (or float sites where integers are needed) raise {@link IllegalArgumentException}
 * naming the layer and what is supported.
 */
public final class Exporter {

  /** What the exporter supports, for error messages. */
  public static final String SUPPORTED = "QuantConv2D / QuantDense / QuantConvBN2D / QuantDenseBN / QuantOutput with "
      + "int or fixed weights, "
      + "QuantActivation with a per-tensor int or fixed spec, SubsamplingLayer (max), ActivationLayer (relu, "
      + "identity), BatchNormalization after a conv / dense layer, DropoutLayer (ignored at inference)";

  /** Scale of 8-bit image inputs x/255. */
  public static final double UNIT_IMAGE_SCALE = 1.0 / 255.0;

  /**
   * An export with, for each exported layer that has a counterpart in the DL4J network, the index of the DL4J
   * layer whose (fake-quant) activation the layer's codes represent at the layer's output quantization.
   * The output (logits) layer has no entry: its DL4J counterpart applies softmax.
   */
  public record Result(ExportModel model, Map<String, Integer> dl4jSources) {}

  private Exporter() {}

  /** Input quantization of unit-scaled 8-bit images: uint8, scale 1/255, zero point 0. */
  public static ActivationSpec unitImageInput(List<Integer> shape) {
    return ActivationSpec.of(shape, 8, false, UNIT_IMAGE_SCALE, 0);
  }

  /** Exports a network whose input is unit-scaled 8-bit images ({@link #unitImageInput}). */
  public static Result export(MultiLayerNetwork net, String modelName) {
    return export(net, modelName, unitImageInput(inputShape(net)));
  }

  /** Exports a network with the given input quantization. */
  public static Result export(MultiLayerNetwork net, String modelName, ActivationSpec input) {
    return new Exporter.Run(net, input).run(modelName);
  }

  /**
   * The NCHW input shape (N = 1) of a network: from its first preprocessor (FeedForwardToCnn) for
   * convolutional networks, [1, nIn] for dense ones.
   */
  public static List<Integer> inputShape(MultiLayerNetwork net) {
    MultiLayerConfiguration conf = net.getLayerWiseConfigurations();
    InputPreProcessor pre = conf.getInputPreProcess(0);
    if (pre instanceof FeedForwardToCnnPreProcessor p) {
      return List.of(1, (int) p.getNumChannels(), (int) p.getInputHeight(), (int) p.getInputWidth());
    }
    Layer first = conf.getConf(0).getLayer();
    if (first instanceof org.deeplearning4j.nn.conf.layers.FeedForwardLayer ff
        && !(first instanceof org.deeplearning4j.nn.conf.layers.ConvolutionLayer)) {
      return List.of(1, (int) ff.getNIn());
    }
    throw new IllegalArgumentException("cannot tell the input shape of layer " + first.getLayerName()
        + ": a convolutional network needs a FeedForwardToCnn input preprocessor (InputType.convolutionalFlat)");
  }

  /**
   * The quantized activation of a site: bits, signedness, scale and zero point from the site's quantizer
   * applied (as the fake-quant layer does) with the observer's range from the state parameter.
   */
  static ActivationSpec activation(String layer, QuantSpec spec, INDArray state, List<Integer> shape) {
    if (spec.isFloat()) {
      throw new IllegalArgumentException("layer " + layer + ": float activation site where integer codes are needed");
    }
    if (spec.kind() != QuantKind.INT && spec.kind() != QuantKind.FIXED) {
      throw new IllegalArgumentException("layer " + layer + ": activation spec " + spec + " not supported; allowed: "
          + "int or fixed (per tensor)");
    }
    if (spec.granularity() != Granularity.TENSOR) {
      throw new IllegalArgumentException("layer " + layer + ": activation spec " + spec + " is not per tensor; "
          + "the export format has one scale per activation tensor");
    }
    QuantContext ctx = new QuantContext(-1, null, null, 0L, false);
    if (spec.needsObserver()) {
      Observer obs = Observers.of(spec.observer());
      if (state == null || obs.updates(state) == 0) {
        throw new IllegalArgumentException("layer " + layer + ": the observer of " + spec + " has seen no data; "
            + "train the model before exporting it");
      }
      ctx = ctx.withRange(obs.min(state), obs.max(state));
    } else if (spec.kind() == QuantKind.INT) {
      throw new IllegalArgumentException("layer " + layer + ": activation spec " + spec + " derives its range from "
          + "each batch (no observer), which has no fixed integer scale; use an observer");
    }
    QuantResult r = Quantizers.of(spec).forward(Nd4j.zeros(DataType.FLOAT, 1, 1), ctx);
    double scale = r.scale().getDouble(0);
    int zp = (int) Math.round(r.zeroPoint().getDouble(0));
    return ActivationSpec.of(shape, spec.bits(), spec.signed(), scale, zp);
  }

  /** The fake-quantized weights of a quantized layer (what its forward pass uses), detached. */
  public static INDArray fakeQuantWeights(MultiLayerNetwork net, int index) {
    Layer conf = net.getLayerWiseConfigurations().getConf(index).getLayer();
    QuantSpec spec = ((QuantLayer) conf).getQuantSites().weights();
    INDArray w = net.getLayer(index).getParam("W");
    if (spec.isFloat()) {
      return w.dup();
    }
    int axis = conf instanceof org.deeplearning4j.nn.conf.layers.ConvolutionLayer ? 0 : 1;
    return Quantizers.of(spec).forward(w, new QuantContext(spec.granularity() == Granularity.TENSOR ? -1 : axis,
        null, null, 0L, false)).output();
  }

  /**
   * Float logits (pre-softmax) of the network's output layer as the fake-quant model computes them:
   * in · Q_w(W) + b, with {@code in} the output layer's input from {@code net.feedForward(x, false)}
   * ({@code activations.get(n - 1)} for n layers, preprocessed as DL4J does).
   */
  public static INDArray fakeQuantLogits(MultiLayerNetwork net, List<INDArray> activations) {
    int last = net.getnLayers() - 1;
    INDArray in = activations.get(last);
    InputPreProcessor pre = net.getLayerWiseConfigurations().getInputPreProcess(last);
    if (pre != null) {
      in = pre.preProcess(in, (int) in.size(0), org.deeplearning4j.nn.workspace.LayerWorkspaceMgr.noWorkspaces());
    }
    INDArray w = fakeQuantWeights(net, last);
    INDArray z = in.castTo(w.dataType()).mmul(w);
    INDArray b = net.getLayer(last).paramTable().get("b");
    if (b != null) {
      z.addiRowVector(b.reshape(1, b.length()));
    }
    return z;
  }

  /** One export pass over a network. */
  private static final class Run {
    private final MultiLayerNetwork net;
    private final MultiLayerConfiguration conf;
    private final ActivationSpec input;
    private final List<LayerSpec> layers = new ArrayList<>();
    private final Map<String, IntTensor> tensors = new HashMap<>();
    private final Map<String, Integer> sources = new LinkedHashMap<>();
    /** Name and quantization of the last emitted activation. */
    private String current = "input";
    private ActivationSpec currentAct;
    /** A conv / dense layer whose output quantization is not known yet. */
    private Pending pending;

    Run(MultiLayerNetwork net, ActivationSpec input) {
      this.net = net;
      this.conf = net.getLayerWiseConfigurations();
      this.input = input;
      this.currentAct = input;
    }

    ExportModel runModel(String modelName) {
      int n = conf.getConfs().size();
      for (int i = 0; i < n; i++) {
        Layer l = conf.getConf(i).getLayer();
        String name = l.getLayerName() == null ? "layer" + i : l.getLayerName();
        boolean last = i == n - 1;
        if (l instanceof QuantConv2D || l instanceof QuantDense || l instanceof QuantOutput || l instanceof QuantConvBN2D
            || l instanceof QuantDenseBN) {
          requireResolved(name);
          startWeighted(i, name, l, last);
        } else if (l instanceof QuantActivation qa) {
          if (pending == null) {
            throw new IllegalArgumentException("layer " + name + " (QuantActivation) must follow a conv / dense layer "
                + "(through ReLU / max pooling) whose output site is float; requantizing an already quantized "
                + "activation is not supported");
          }
          boolean relu = activationKind(name, qa.getActivationFn());
          pending.relu |= relu;
          resolve(qa.spec(), net.getLayer(i).getParam(QuantParamInitializer.OUTPUT_STATE_KEY), name);
        } else if (l instanceof SubsamplingLayer s) {
          pool(i, name, s);
        } else if (l instanceof ActivationLayer a) {
          boolean relu = activationKind(name, a.getActivationFn());
          if (pending != null) {
            pending.relu |= relu; // ReLU commutes with max pooling, so it may also come after a pool
            if (pending.pools.isEmpty()) {
              pending.source = i;
            }
          } else if (relu) {
            int lo = Math.max(currentAct.zeroPoint(), currentAct.qmin());
            emit(LayerSpec.builder(name, "relu", current).inputShapes(currentAct.shape()).output(currentAct)
                .clamp(lo, currentAct.qmax()).build(), i);
          }
        } else if (l instanceof BatchNormalization) {
          if (pending == null || !pending.pools.isEmpty() || pending.relu || pending.folded) {
            throw new IllegalArgumentException("layer " + name + " (BatchNormalization) can only be exported directly "
                + "after a conv / dense layer with identity activation, to be folded into it");
          }
          BatchNormFold.Stats st = BatchNormFold.Stats.of(
              (org.deeplearning4j.nn.layers.normalization.BatchNormalization) net.getLayer(i));
          BatchNormFold.Folded f = BatchNormFold.fold(pending.w, pending.b, st, pending.wAxis);
          pending.w = f.weights();
          pending.b = f.bias();
          pending.folded = true;
          pending.source = i;
        } else if (l instanceof DropoutLayer) {
          continue;
        } else {
          throw new IllegalArgumentException("layer " + name + " (" + l.getClass().getSimpleName()
              + ") not supported; supported: " + SUPPORTED);
        }
      }
      if (pending != null) {
        throw new IllegalArgumentException("layer " + pending.name + ": float output site where integer codes are "
            + "needed (no quantized activation follows it)");
      }
      return new ExportModel(Manifest.of(modelName, List.of("npy"), input, layers), tensors);
    }

    Result run(String modelName) {
      ExportModel m = runModel(modelName);
      return new Result(m, Collections.unmodifiableMap(sources));
    }

    private void requireResolved(String next) {
      if (pending != null) {
        throw new IllegalArgumentException("layer " + pending.name + ": float output site where integer codes are "
            + "needed (layer " + next + " follows without a quantized activation in between)");
      }
    }

    /** True for ReLU, false for identity; anything else is rejected. */
    private static boolean activationKind(String name, IActivation a) {
      if (a == null || a instanceof ActivationIdentity) {
        return false;
      }
      if (a instanceof ActivationReLU r && (r.getMax() == null || Double.isInfinite(r.getMax()))
          && (r.getThreshold() == null || r.getThreshold() == 0) && (r.getNegativeSlope() == null
          || r.getNegativeSlope() == 0)) {
        return true;
      }
      throw new IllegalArgumentException("layer " + name + ": activation " + a + " not supported; allowed: relu, "
          + "identity (softmax on the output layer)");
    }

    private void startWeighted(int i, String name, Layer l, boolean last) {
      QuantSites s = ((QuantLayer) l).getQuantSites();
      if (!s.input().isFloat()) {
        throw new IllegalArgumentException("layer " + name + ": quantized input site " + s.input()
            + " not supported; the export takes the previous layer's codes as input (input site must be float)");
      }
      QuantSpec ws = s.weights();
      if (ws.kind() != QuantKind.INT && ws.kind() != QuantKind.FIXED) {
        throw new IllegalArgumentException("layer " + name + ": weight spec " + ws + " not supported; allowed: int, "
            + "fixed (per tensor or per channel)");
      }
      if (ws.granularity() != Granularity.TENSOR && ws.granularity() != Granularity.CHANNEL) {
        throw new IllegalArgumentException("layer " + name + ": weight spec " + ws + " not supported; allowed: per "
            + "tensor or per channel");
      }
      if (!s.bias().isFloat()) {
        throw new IllegalArgumentException("layer " + name + ": quantized bias site " + s.bias() + " not supported; "
            + "the export quantizes the float bias to int32 at scale input_scale * weight_scale");
      }
      org.deeplearning4j.nn.api.Layer impl = net.getLayer(i);
      Pending p = new Pending();
      p.name = name;
      p.index = i;
      p.source = i;
      p.in = currentAct;
      p.inName = current;
      p.wSpec = ws;
      if (impl instanceof FusedBnImpl<?> fused) {
        BatchNormFold.Folded f = fused.foldedWeights();
        p.w = f.weights();
        p.b = f.bias();
        p.folded = true;
      } else {
        p.w = impl.getParam("W").dup();
        INDArray b = impl.paramTable().get("b");
        p.b = b == null ? null : b.dup().reshape(b.length());
      }
      IActivation act = ((BaseLayer) l).getActivationFn();
      if (l instanceof org.deeplearning4j.nn.conf.layers.ConvolutionLayer c) {
        if (currentAct.shape().size() != 4) {
          throw new IllegalArgumentException("layer " + name + " (" + l.getClass().getSimpleName()
              + ") needs an NCHW input, got shape "
              + currentAct.shape());
        }
        requireTruncate(name, c.getConvolutionMode());
        p.op = "conv2d";
        p.wAxis = 0;
        p.kernel = c.getKernelSize();
        p.stride = c.getStride();
        p.padding = c.getPadding();
        p.dilation = c.getDilation();
        List<Integer> in = currentAct.shape();
        p.outShape = List.of(1, (int) c.getNOut(), outSize(in.get(2), p.kernel[0], p.stride[0], p.padding[0],
            p.dilation[0]), outSize(in.get(3), p.kernel[1], p.stride[1], p.padding[1], p.dilation[1]));
        p.relu = activationKind(name, act);
      } else {
        if (currentAct.shape().size() == 4) {
          flatten(name, i);
          p.in = currentAct;
          p.inName = current;
        }
        long nOut = ((org.deeplearning4j.nn.conf.layers.FeedForwardLayer) l).getNOut();
        p.op = "dense";
        p.wAxis = 1;
        p.outShape = List.of(1, (int) nOut);
        if (l instanceof QuantOutput) {
          if (!last) {
            throw new IllegalArgumentException("layer " + name + " (QuantOutput) must be the last layer");
          }
          if (!(act instanceof ActivationSoftmax || act instanceof ActivationIdentity)) {
            throw new IllegalArgumentException("layer " + name + ": output activation " + act + " not supported; "
                + "allowed: softmax, identity (the export yields logits)");
          }
          pending = p;
          emitLogits();
          return;
        }
        p.relu = activationKind(name, act);
      }
      pending = p;
      if (!s.output().isFloat()) {
        resolve(s.output(), impl.getParam(QuantParamInitializer.OUTPUT_STATE_KEY), name);
      }
    }

    private void flatten(String name, int i) {
      InputPreProcessor pre = conf.getInputPreProcess(i);
      if (!(pre instanceof CnnToFeedForwardPreProcessor c) || c.getFormat() != CNN2DFormat.NCHW) {
        throw new IllegalArgumentException("layer " + name + ": a dense layer after convolutional activations needs "
            + "DL4J's NCHW CnnToFeedForward preprocessor, got " + pre);
      }
      List<Integer> s = currentAct.shape();
      ActivationSpec out = ActivationSpec.of(List.of(1, s.get(1) * s.get(2) * s.get(3)), currentAct.bits(),
          currentAct.signed(), currentAct.scale(), currentAct.zeroPoint());
      emit(LayerSpec.builder(name + "_flatten", "flatten", current).inputShapes(currentAct.shape()).output(out).build(),
          null);
    }

    private void pool(int i, String name, SubsamplingLayer s) {
      if (s.getPoolingType() != PoolingType.MAX) {
        throw new IllegalArgumentException("layer " + name + " (SubsamplingLayer " + s.getPoolingType()
            + ") not supported; allowed: max pooling");
      }
      requireTruncate(name, s.getConvolutionMode());
      List<Integer> in = pending != null
          ? (pending.pools.isEmpty() ? pending.outShape : pending.pools.get(pending.pools.size() - 1).outShape)
          : currentAct.shape();
      if (in.size() != 4) {
        throw new IllegalArgumentException("layer " + name + " (max pooling) needs an NCHW input, got " + in);
      }
      Pool p = new Pool();
      p.name = name;
      p.index = i;
      p.kernel = s.getKernelSize();
      p.stride = s.getStride();
      p.padding = s.getPadding();
      p.dilation = s.getDilation();
      p.outShape = List.of(1, in.get(1), outSize(in.get(2), p.kernel[0], p.stride[0], p.padding[0], p.dilation[0]),
          outSize(in.get(3), p.kernel[1], p.stride[1], p.padding[1], p.dilation[1]));
      if (pending != null) {
        pending.pools.add(p);
      } else {
        emitPool(p, currentAct);
      }
    }

    private void emitPool(Pool p, ActivationSpec inAct) {
      ActivationSpec out = ActivationSpec.of(p.outShape, inAct.bits(), inAct.signed(), inAct.scale(),
          inAct.zeroPoint());
      emit(LayerSpec.builder(p.name, "max_pool", current).inputShapes(inAct.shape()).output(out)
          .kernel(p.kernel[0], p.kernel[1]).stride(p.stride[0], p.stride[1])
          .padding(p.padding[0], p.padding[1], p.padding[0], p.padding[1]).dilation(p.dilation[0], p.dilation[1])
          .build(), p.index);
    }

    private static void requireTruncate(String name, ConvolutionMode mode) {
      if (mode != null && mode != ConvolutionMode.Truncate && mode != ConvolutionMode.Strict) {
        throw new IllegalArgumentException("layer " + name + ": convolution mode " + mode + " not supported; "
            + "allowed: Truncate, Strict (explicit padding)");
      }
    }

    private static int outSize(int in, int k, int s, int pad, int d) {
      return Math.floorDiv(in + 2 * pad - d * (k - 1) - 1, s) + 1;
    }

    /** Quantized weights of the pending layer: codes in the engine's layout, per-channel scales and zero points. */
    private QuantResult quantizeWeights() {
      int axis = pending.wSpec.granularity() == Granularity.TENSOR ? -1 : pending.wAxis;
      return Quantizers.of(pending.wSpec).forward(pending.w, new QuantContext(axis, null, null, 0L, false));
    }

    /** Emits the pending layer with the output quantization of {@code spec} (and its buffered pools). */
    private void resolve(QuantSpec spec, INDArray state, String siteLayer) {
      Pending p = pending;
      List<Integer> last = p.pools.isEmpty() ? p.outShape : p.pools.get(p.pools.size() - 1).outShape;
      ActivationSpec out = activation(siteLayer, spec, state, p.outShape);
      int qmin = Math.max(out.qmin(), spec.qmin());
      int lo = p.relu ? Math.max(out.zeroPoint(), qmin) : qmin;
      int hi = Math.min(out.qmax(), spec.qmax());
      QuantResult wq = quantizeWeights();
      double[] sw = perChannel(wq.scale(), p.outShape.get(1));
      double[] reals = new double[sw.length];
      for (int c = 0; c < sw.length; c++) {
        reals[c] = p.in.scale() * sw[c] / out.scale();
      }
      emitWeighted(p, wq, sw, Requantizer.requant(reals), out, lo, hi);
      pending = null;
      ActivationSpec act = out;
      for (Pool pool : p.pools) {
        emitPool(pool, act);
        act = currentAct;
      }
      if (!last.equals(currentAct.shape())) {
        throw new IllegalStateException("shape bookkeeping error at " + siteLayer);
      }
    }

    /** Emits the output layer: int32 logits at scale s_x·min_c s_w[c]. */
    private void emitLogits() {
      Pending p = pending;
      QuantResult wq = quantizeWeights();
      double[] sw = perChannel(wq.scale(), p.outShape.get(1));
      double minSw = Double.MAX_VALUE;
      for (double s : sw) {
        minSw = Math.min(minSw, s);
      }
      double sOut = p.in.scale() * minSw;
      double[] reals = new double[sw.length];
      for (int c = 0; c < sw.length; c++) {
        reals[c] = p.in.scale() * sw[c] / sOut;
      }
      ActivationSpec out = ActivationSpec.of(p.outShape, 32, true, sOut, 0);
      emitWeighted(p, wq, sw, Requantizer.multipliers(reals), out, out.qmin(), out.qmax());
      sources.remove(p.name);
      pending = null;
    }

    private void emitWeighted(Pending p, QuantResult wq, double[] sw, Requant requant, ActivationSpec out, int lo,
        int hi) {
      int channels = p.outShape.get(1);
      INDArray codes = p.op.equals("dense") ? wq.codes().transpose() : wq.codes();
      codes = codes.castTo(DataType.DOUBLE).dup('c');
      double[] cd = codes.data().asDouble();
      int[] wCodes = new int[cd.length];
      for (int k = 0; k < cd.length; k++) {
        wCodes[k] = (int) Math.round(cd[k]);
      }
      List<Integer> wShape = new ArrayList<>();
      for (long d : codes.shape()) {
        wShape.add((int) d);
      }
      double[] zw = perChannel(wq.zeroPoint(), channels);
      List<Double> swList = new ArrayList<>();
      List<Integer> zwList = new ArrayList<>();
      boolean zeroWeightsZp = true;
      for (int c = 0; c < channels; c++) {
        swList.add(sw[c]);
        zwList.add((int) Math.round(zw[c]));
        zeroWeightsZp &= zw[c] == 0;
      }
      QuantSpec ws = p.wSpec;
      TensorSpec wSpec = new TensorSpec(p.name + ".weight.npy", wShape, Formats.dtypeFor(ws.bits(), ws.signed()),
          ws.bits(), ws.signed(), ws.kind().specName(), 0, swList, zwList, null);
      tensors.put(wSpec.file(), IntTensor.of(wShape, wCodes));

      TensorSpec bSpec = null;
      if (p.b != null) {
        double[] bf = p.b.castTo(DataType.DOUBLE).dup().data().asDouble();
        int[] bq = new int[channels];
        List<Double> bScale = new ArrayList<>();
        for (int c = 0; c < channels; c++) {
          double s = p.in.scale() * sw[c];
          long v = Math.round(bf[c] / s);
          if (v > Integer.MAX_VALUE || v < Integer.MIN_VALUE) {
            throw new IllegalArgumentException("layer " + p.name + ": bias " + bf[c] + " of channel " + c
                + " does not fit int32 at scale " + s);
          }
          bq[c] = (int) v;
          bScale.add(s);
        }
        bSpec = new TensorSpec(p.name + ".bias.npy", List.of(channels), "int32", 32, true, "bias", 0, bScale,
            Collections.nCopies(channels, 0), null);
        tensors.put(bSpec.file(), IntTensor.of(List.of(channels), bq));
      }
      int fanIn = 1;
      for (int k = 1; k < wShape.size(); k++) {
        fanIn *= wShape.get(k);
      }
      int accBits = AccumulatorWidth.required(
          AccumulatorWidth.operandBits(p.in.bits(), p.in.signed(), p.in.zeroPoint()),
          AccumulatorWidth.operandBits(ws.bits(), ws.signed(), zeroWeightsZp ? 0 : 1), fanIn, bSpec != null);
      LayerSpec.Builder b = LayerSpec.builder(p.name, p.op, p.inName).inputShapes(p.in.shape()).output(out)
          .weights(wSpec).requant(requant).clamp(lo, hi).accumulatorBits(accBits);
      if (bSpec != null) {
        b.bias(bSpec);
      }
      if (p.op.equals("conv2d")) {
        b.kernel(p.kernel[0], p.kernel[1]).stride(p.stride[0], p.stride[1])
            .padding(p.padding[0], p.padding[1], p.padding[0], p.padding[1]).dilation(p.dilation[0], p.dilation[1]);
      }
      emit(b.build(), p.source);
    }

    private static double[] perChannel(INDArray v, int channels) {
      double[] d = v.castTo(DataType.DOUBLE).dup().data().asDouble();
      if (d.length == channels) {
        return d;
      }
      if (d.length == 1) {
        double[] out = new double[channels];
        java.util.Arrays.fill(out, d[0]);
        return out;
      }
      throw new IllegalStateException("expected 1 or " + channels + " quantization parameters, got " + d.length);
    }

    private void emit(LayerSpec spec, Integer source) {
      layers.add(spec);
      if (source != null) {
        sources.put(spec.name(), source);
      }
      current = spec.name();
      currentAct = spec.output();
    }
  }

  /** A conv / dense layer waiting for its output quantization. */
  private static final class Pending {
    String name;
    String op;
    int index;
    int source;
    String inName;
    ActivationSpec in;
    QuantSpec wSpec;
    int wAxis;
    INDArray w;
    INDArray b;
    int[] kernel;
    int[] stride;
    int[] padding;
    int[] dilation;
    List<Integer> outShape;
    boolean relu;
    boolean folded;
    final List<Pool> pools = new ArrayList<>();
  }

  /** A max pooling layer buffered behind a pending layer. */
  private static final class Pool {
    String name;
    int index;
    int[] kernel;
    int[] stride;
    int[] padding;
    int[] dilation;
    List<Integer> outShape;
  }
}
